using System.Runtime.InteropServices;

namespace MlPlatform.ServiceDefaults.Storage;

/// <summary>File-system durability shared by the services that persist state (the registry's blobs, the batch scorer's job files).</summary>
public static class DurableFiles
{
    /// <summary>
    /// Creates <paramref name="directory"/> and any missing parent, fsyncing the parent of each folder it creates: a new folder is only
    /// on disk once its entry in the parent is, so a file renamed into it right after a crash is not lost with it.
    /// </summary>
    /// <exception cref="IOException">A folder cannot be created or fsynced.</exception>
    public static void CreateDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (Directory.Exists(full))
        {
            return;
        }
        var missing = new Stack<string>();
        for (var current = full; current is not null && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing.Push(current);
        }
        while (missing.TryPop(out var next))
        {
            Directory.CreateDirectory(next);
            if (Path.GetDirectoryName(next) is { } parent)
            {
                FsyncDirectory(parent);
            }
        }
    }

    /// <summary>Makes a rename durable: on Linux the directory entry is only on disk once the directory itself is fsynced.</summary>
    /// <exception cref="IOException">The directory cannot be opened or fsynced.</exception>
    public static void FsyncDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        // .NET refuses to open a directory as a file handle, so this goes to libc directly.
        var fd = NativeFile.Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (NativeFile.Fsync(fd) != 0)
            {
                throw new IOException($"fsync of '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = NativeFile.Close(fd);
        }
    }

    private static class NativeFile
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}

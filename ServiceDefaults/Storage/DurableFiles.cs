using System.Runtime.InteropServices;

namespace MlPlatform.ServiceDefaults.Storage;

/// <summary>File-system durability shared by the services that persist state (the registry's blobs, the batch scorer's job files).</summary>
public static class DurableFiles
{
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

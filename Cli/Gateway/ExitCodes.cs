namespace MlPlatform.Cli.Gateway;

/// <summary>The exit codes of every command (docs/cli.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int Refused = 2;
    public const int NotFound = 3;
    public const int Unreachable = 4;
}

/// <summary>A failure shown to the user as one line, with the exit code it maps to.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

namespace MlPlatform.Cli.Gateway;

/// <summary>The exit codes of every command (docs/cli.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int Refused = 2;
    public const int NotFound = 3;
    public const int Unreachable = 4;

    /// <summary>What each code means, as the root <c>--help</c> shows it; docs/cli.md has the same table (a test keeps them equal).</summary>
    public static readonly IReadOnlyList<(int Code, string Meaning)> Meanings =
    [
        (Ok, "done"),
        (Usage, "usage: unknown command or option, missing argument or --reason, input file missing or not JSON, bad URL"),
        (Refused, "the server refused (4xx other than 404: 400, 401, 403, 409, 413, 415, 422, 429), or a waited-for batch job failed or was cancelled"),
        (NotFound, "not found (404: model, version, alias, job, rollout)"),
        (Unreachable, "unreachable or other: connection refused, DNS, 5xx, a response that is not JSON"),
    ];
}

/// <summary>A failure shown to the user as one line, with the exit code it maps to.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

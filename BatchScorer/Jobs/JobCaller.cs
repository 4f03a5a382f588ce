namespace MlPlatform.BatchScorer.Jobs;

/// <summary>
/// Who calls, as the gateway forwards it (<see cref="PlatformHeaders.Actor"/> = the API key's id, <see cref="PlatformHeaders.Role"/>).
/// Operators work with the jobs their key submitted; admins with every job. A request without a role did not come through the gateway: only a holder of the
/// internal credential (which every request here needs) can send one, so it is a platform-internal caller and sees every job.
/// </summary>
public sealed record JobCaller(string? Actor, string? Role)
{
    public const string AdminRole = "admin";

    public static JobCaller From(HttpRequest request)
    {
        static string? Header(HttpRequest request, string name)
        {
            var value = request.Headers[name].ToString().Trim();
            return value.Length == 0 ? null : value.Length > 200 ? value[..200] : value;
        }
        return new JobCaller(Header(request, PlatformHeaders.Actor), Header(request, PlatformHeaders.Role));
    }

    /// <summary>Admins and platform-internal callers see every job.</summary>
    public bool SeesEveryJob => Role is null or AdminRole;

    /// <summary>The owner whose jobs this caller may see, or null when it sees every job.</summary>
    /// <remarks>A non-admin caller without a key id sees nothing: the empty string owns no job.</remarks>
    public string? OwnerFilter => SeesEveryJob ? null : Actor ?? "";

    public bool MaySee(JobView job) => SeesEveryJob || (Actor is not null && string.Equals(job.SubmittedBy, Actor, StringComparison.Ordinal));
}

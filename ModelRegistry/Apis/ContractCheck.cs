using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Apis;

/// <summary>
/// The contract check run when production is moved or a rollout starts: a version whose signature would break production's clients is
/// refused with 409 and the differences, unless the request forces it. Rollbacks never pass through here.
/// </summary>
public static class ContractCheck
{
    /// <summary>
    /// Null when <paramref name="version"/> may take production's traffic as asked, with the differences it is forced over (null when none);
    /// else the 409 to answer. Unknown model or version, or no production yet, pass: the store answers those.
    /// </summary>
    public static async Task<(Conflict<ProblemDetails>? Refusal, IReadOnlyList<string>? ForcedOver)> CheckAsync(ModelStore models, string name,
        int version, bool force, CancellationToken cancellationToken)
    {
        var details = await models.GetModelAsync(name, cancellationToken);
        if (details?.FindAlias(AliasNames.Production) is not { } production || production.Version == version
            || details.FindVersion(production.Version) is not { } current || details.FindVersion(version) is not { } candidate)
        {
            return (null, null);
        }
        var differences = SignatureContract.Differences(current.Signature, candidate.Signature);
        if (differences.Count == 0)
        {
            return (null, null);
        }
        if (force)
        {
            return (null, differences);
        }
        var refusal = new IncompatibleSignatureProblem(IncompatibleSignatureProblem.TitleText, StatusCodes.Status409Conflict,
            $"Version {version} of '{name}' would break requests that production (version {production.Version}) accepts: "
                + string.Join("; ", differences) + ". Send \"force\": true to move it anyway (recorded in the alias history).",
            production.Version, differences);
        return (TypedResults.Conflict(ToProblem(refusal)), null);
    }

    /// <summary>
    /// The refusal as the registry's other problems are written (problem+json through <see cref="ProblemJsonFilter"/>), its extra members
    /// named as <see cref="IncompatibleSignatureProblem"/> serialises them.
    /// </summary>
    public static ProblemDetails ToProblem(IncompatibleSignatureProblem refusal)
    {
        var problem = new ProblemDetails { Status = refusal.Status, Title = refusal.Title, Detail = refusal.Detail };
        problem.Extensions[JsonNamingPolicy.CamelCase.ConvertName(nameof(refusal.ProductionVersion))] = refusal.ProductionVersion;
        problem.Extensions[JsonNamingPolicy.CamelCase.ConvertName(nameof(refusal.Differences))] = refusal.Differences;
        return problem;
    }
}

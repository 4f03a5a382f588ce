using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.ModelRegistry.Aliases;

/// <summary>Decides where a rollback of <c>production</c> goes.</summary>
public static class RollbackPlanner
{
    public const string ProductionAlias = AliasNames.Production;

    /// <summary>
    /// The last version the alias held before <paramref name="currentVersion"/> that was never itself rolled back from (nor is the current
    /// one, which this rollback leaves, nor archived); null when there is none. Because every version a rollback leaves is excluded from then on,
    /// a second rollback goes further back instead of forward to the version the first one left.
    /// </summary>
    /// <param name="history">The alias's changes, oldest first.</param>
    public static int? ChooseTarget(IReadOnlyList<AliasChange> history, int currentVersion, IReadOnlySet<int> archivedVersions)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(archivedVersions);

        var excluded = new HashSet<int> { currentVersion };
        foreach (var change in history)
        {
            if (change.Kind == AliasChange.KindRollback && change.FromVersion is { } left)
            {
                excluded.Add(left);
            }
        }

        for (var i = history.Count - 1; i >= 0; i--)
        {
            if (history[i].ToVersion is { } held && !excluded.Contains(held) && !archivedVersions.Contains(held))
            {
                return held;
            }
        }
        return null;
    }
}

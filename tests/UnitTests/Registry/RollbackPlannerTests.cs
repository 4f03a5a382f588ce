using MlPlatform.ModelRegistry.Aliases;
using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.UnitTests.Registry;

public sealed class RollbackPlannerTests
{
    private static readonly IReadOnlySet<int> NoneArchived = new HashSet<int>();

    private static AliasChange Set(int? from, int to) =>
        new("production", from, to, null, DateTimeOffset.UnixEpoch, "admin", "admin", "release", AliasChange.KindSet);

    private static AliasChange Rollback(int from, int to) =>
        new("production", from, to, null, DateTimeOffset.UnixEpoch, "admin", "admin", "bad", AliasChange.KindRollback);

    [Fact]
    public void RollbackGoesToThePreviouslyHeldVersion() =>
        Assert.Equal(2, RollbackPlanner.ChooseTarget([Set(null, 1), Set(1, 2), Set(2, 3)], 3, NoneArchived));

    [Fact]
    public void ASecondRollbackGoesFurtherBackNotForwardToTheVersionTheFirstLeft() =>
        Assert.Equal(1, RollbackPlanner.ChooseTarget([Set(null, 1), Set(1, 2), Set(2, 3), Rollback(3, 2)], 2, NoneArchived));

    [Fact]
    public void AVersionRolledBackFromIsNeverChosenAgainEvenAfterLaterReleases() =>
        // 1 -> 2 -> 3, rollback from 3 to 2, release 4, rollback from 4: back to 2, never 3.
        Assert.Equal(2, RollbackPlanner.ChooseTarget([Set(null, 1), Set(1, 2), Set(2, 3), Rollback(3, 2), Set(2, 4)], 4, NoneArchived));

    [Fact]
    public void ArchivedVersionsAreSkipped() =>
        Assert.Equal(1, RollbackPlanner.ChooseTarget([Set(null, 1), Set(1, 2), Set(2, 3)], 3, new HashSet<int> { 2 }));

    [Fact]
    public void RepeatedReleasesOfTheCurrentVersionAreNotATarget() =>
        Assert.Equal(1, RollbackPlanner.ChooseTarget([Set(null, 1), Set(1, 3), Set(3, 1), Set(1, 3)], 3, NoneArchived));

    [Fact]
    public void ThereIsNoTargetWithoutAnEarlierGoodVersion()
    {
        Assert.Null(RollbackPlanner.ChooseTarget([Set(null, 1)], 1, NoneArchived));
        Assert.Null(RollbackPlanner.ChooseTarget([Set(null, 1), Set(1, 2), Rollback(2, 1)], 1, NoneArchived));
        Assert.Null(RollbackPlanner.ChooseTarget([], 1, NoneArchived));
    }

    [Fact]
    public void DeletionsInTheHistoryAreNotTargets()
    {
        var deleted = new AliasChange("production", 1, null, null, DateTimeOffset.UnixEpoch, "admin", null, "gone", AliasChange.KindDeleted);
        Assert.Equal(1, RollbackPlanner.ChooseTarget([Set(null, 1), deleted, Set(null, 2)], 2, NoneArchived));
    }
}

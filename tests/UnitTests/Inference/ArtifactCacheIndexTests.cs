using MlPlatform.Inference.Artifacts;

namespace MlPlatform.UnitTests.Inference;

public sealed class ArtifactCacheIndexTests
{
    private static string Sha(char c) => new(c, 64);

    [Fact]
    public void TheLeastRecentlyUsedArtifactsGoFirstUntilTheTotalIsInTheBound()
    {
        var index = new ArtifactCacheIndex(maxBytes: 250);
        index.Touch(Sha('a'), 100);
        index.Touch(Sha('b'), 100);
        index.Touch(Sha('a'), 100);
        index.Touch(Sha('c'), 100);

        Assert.Equal([Sha('b')], index.TakeEvictable());
        Assert.Equal(200, index.TotalBytes);
        Assert.Empty(index.TakeEvictable());
    }

    [Fact]
    public void APinnedArtifactIsNeverEvictedEvenPastTheBound()
    {
        var index = new ArtifactCacheIndex(maxBytes: 100);
        var pin = index.Pin(Sha('a'));
        index.Touch(Sha('a'), 100);
        index.Touch(Sha('b'), 100);
        using (index.Pin(Sha('b')))
        {
            Assert.Empty(index.TakeEvictable());
            Assert.Equal(200, index.TotalBytes);
        }
        Assert.Equal([Sha('b')], index.TakeEvictable());

        pin.Dispose();
        pin.Dispose();
        index.Touch(Sha('c'), 50);
        Assert.Equal([Sha('a')], index.TakeEvictable());
        Assert.Equal(50, index.TotalBytes);
    }

    [Fact]
    public void ArtifactsFoundOnDiskAreCountedOnceOldestFirst()
    {
        var index = new ArtifactCacheIndex(maxBytes: 100);
        Assert.True(index.Seed([(Sha('a'), 80), (Sha('b'), 80)]));
        Assert.False(index.Seed([(Sha('c'), 80)]));
        Assert.Equal(2, index.Count);
        Assert.Equal([Sha('a')], index.TakeEvictable());
    }

    [Fact]
    public void APinOnAnArtifactThatNeverArrivedLeavesNothingBehind()
    {
        var index = new ArtifactCacheIndex(maxBytes: 100);
        index.Pin(Sha('a')).Dispose();
        Assert.Equal(0, index.Count);
    }
}

using System.ComponentModel.DataAnnotations;
using MlPlatform.BatchScorer.Jobs;

namespace MlPlatform.UnitTests.Batch;

public sealed class BatchOptionsTests
{
    private static List<string> Errors(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? "").ToList();
    }

    [Fact]
    public void DefaultsAreValid()
    {
        Assert.Empty(Errors(new BatchWorkerOptions()));
        Assert.Empty(Errors(new BatchJobOptions()));
    }

    [Fact]
    public void AClaimRenewedLessOftenThanTwicePerIdleTimeIsRejected()
    {
        var errors = Errors(new BatchWorkerOptions { ClaimIdleTime = TimeSpan.FromSeconds(4), ClaimRenewInterval = TimeSpan.FromSeconds(3) });

        Assert.Equal(["ClaimRenewInterval (00:00:03) must be at most half of ClaimIdleTime (00:00:04) so a healthy chunk is never taken over."], errors);
    }

    [Fact]
    public void OutOfRangeLimitsAreRejected()
    {
        Assert.NotEmpty(Errors(new BatchWorkerOptions { MaxDeliveries = 0 }));
        Assert.NotEmpty(Errors(new BatchWorkerOptions { ClaimIdleTime = TimeSpan.Zero }));
        Assert.NotEmpty(Errors(new BatchWorkerOptions { MaxConcurrentChunks = 0 }));
        Assert.Equal(["Chunk sizes must satisfy MinChunkSize (500) <= DefaultChunkSize (100) <= MaxChunkSize (100000)."],
            Errors(new BatchJobOptions { MinChunkSize = 500, DefaultChunkSize = 100 }));
    }
}

using Spectre.Console;

namespace MlPlatform.Cli.Commands;

/// <summary>Uploads with a progress bar (bytes, speed, time left) when a person is watching.</summary>
internal static class Transfers
{
    public static async Task<T> UploadAsync<T>(string description, long totalBytes, bool show, Func<Action<long>, Task<T>> upload)
    {
        if (!show)
        {
            return await upload(static _ => { });
        }
        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: Math.Max(1, totalBytes));
                result = await upload(bytes => task.Value = bytes);
                task.Value = task.MaxValue;
            });
        return result;
    }
}

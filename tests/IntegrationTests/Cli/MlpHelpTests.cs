using System.Text.RegularExpressions;

namespace MlPlatform.IntegrationTests.Cli;

/// <summary>The tool's help on its own: no platform is needed, so no fixture.</summary>
public sealed class MlpHelpTests
{
    [Fact]
    public async Task RootHelpListsEveryExitCodeExactlyAsDocsCliMdDoes()
    {
        // Nothing listens on port 1: the help must not need the gateway.
        using var mlp = new MlpTool("http://127.0.0.1:1", apiKey: null);

        var help = await mlp.RunAsync("--help");

        Assert.True(help.ExitCode == 0, help.ToString());
        var lines = help.Stdout.Split('\n').Select(l => l.TrimEnd()).ToList();
        var header = lines.IndexOf("EXIT CODES:");
        Assert.True(header >= 0, $"No EXIT CODES section in the root help:\n{help.Stdout}");
        var shown = lines.Skip(header + 1).TakeWhile(l => l.Length > 0)
            .Select(l => Regex.Match(l, @"^\s+(\d+)\s{2,}(\S.*)$"))
            .Select(m => (Code: int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Meaning: m.Groups[2].Value))
            .ToList();
        Assert.Equal(await DocumentedExitCodesAsync(), shown);
    }

    [Fact]
    public async Task SubcommandHelpDoesNotRepeatTheExitCodes()
    {
        using var mlp = new MlpTool("http://127.0.0.1:1", apiKey: null);

        var help = await mlp.RunAsync("models", "register", "--help");

        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.DoesNotContain("EXIT CODES:", help.Stdout);
    }

    /// <summary>The table under docs/cli.md's "Exit codes and errors", with the markdown code marks removed.</summary>
    private static async Task<List<(int Code, string Meaning)>> DocumentedExitCodesAsync()
    {
        var doc = await File.ReadAllLinesAsync(Path.Combine(DocScript.RepositoryRoot(), "docs", "cli.md"));
        var section = Array.IndexOf(doc, "## Exit codes and errors");
        Assert.True(section >= 0, "docs/cli.md has no 'Exit codes and errors' section.");
        var codes = doc.Skip(section + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|'))
            .Select(l => Regex.Match(l, @"^\|\s*(\d+)\s*\|\s*(.+?)\s*\|$"))
            .Where(m => m.Success)
            .Select(m => (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value.Replace("`", "", StringComparison.Ordinal)))
            .ToList();
        Assert.Equal(5, codes.Count);
        return codes;
    }
}

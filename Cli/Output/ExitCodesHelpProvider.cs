using MlPlatform.Cli.Gateway;
using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace MlPlatform.Cli.Output;

/// <summary>Spectre's help, plus the exit codes under the root <c>mlp --help</c>: scripts branch on them, so they belong where users look first.</summary>
public sealed class ExitCodesHelpProvider(ICommandAppSettings settings) : HelpProvider(settings)
{
    public override IEnumerable<IRenderable> GetFooter(ICommandModel model, ICommandInfo? command)
    {
        foreach (var renderable in base.GetFooter(model, command))
        {
            yield return renderable;
        }
        if (command is not null)
        {
            yield break;
        }
        var codes = new Grid();
        codes.AddColumn(new GridColumn().PadLeft(4).PadRight(4).NoWrap());
        codes.AddColumn(new GridColumn());
        foreach (var (code, meaning) in ExitCodes.Meanings)
        {
            codes.AddRow(new Text(code.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Text(meaning));
        }
        yield return new Markup(Environment.NewLine + "[yellow]EXIT CODES:[/]" + Environment.NewLine);
        yield return codes;
    }
}

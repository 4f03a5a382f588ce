using MlPlatform.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

// Piped output has no terminal width: honour $COLUMNS as shells and coreutils do, so tables are not wrapped at 80.
if (int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns is > 20 and < 10000)
{
    AnsiConsole.Profile.Width = columns;
}

var app = new CommandApp();
app.Configure(CliApp.Configure);
return await app.RunAsync(CliApp.NormaliseArguments(args));

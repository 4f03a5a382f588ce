using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace MlPlatform.Cli.Output;

/// <summary>Everything commands print: server JSON for <c>--json</c>, tables for people, errors as one line on stderr.</summary>
public static class Printer
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Json(JsonNode? node) => Console.Out.WriteLine(node?.ToJsonString(Indented) ?? "null");

    public static void Error(string message) => Console.Error.WriteLine($"error: {message}");

    public static void Line(string markup) => AnsiConsole.MarkupLine(markup);

    public static string E(object? value) => Markup.Escape(Format(value));

    /// <summary>A JSON value as a person reads it: strings bare, numbers invariant, arrays inline, null as a dash.</summary>
    public static string Format(object? value) => value switch
    {
        null => "-",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.GetValueKind() == JsonValueKind.Null => "-",
        JsonNode n => n.ToJsonString(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "-",
    };

    public static Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(column)));
        }
        return table;
    }

    public static void AddCells(this Table table, params object?[] cells) =>
        table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(Format(c))).ToArray());

    public static void Write(Table table) => AnsiConsole.Write(table);

    /// <summary>An object of unknown shape (rollouts, alerts) as a two-column table, nested arrays of objects as their own tables.</summary>
    public static void Object(JsonObject obj, string? title = null)
    {
        var table = NewTable("field", "value");
        if (title is not null)
        {
            table.Title(Markup.Escape(title));
        }
        var nested = new List<(string, JsonArray)>();
        foreach (var (key, value) in obj)
        {
            if (value is JsonArray array && array.Count > 0 && array.All(a => a is JsonObject))
            {
                nested.Add((key, array));
            }
            else
            {
                table.AddCells(key, value);
            }
        }
        Write(table);
        foreach (var (key, array) in nested)
        {
            Array(array, key);
        }
    }

    /// <summary>An array of objects as one table whose columns are the union of their scalar fields.</summary>
    public static void Array(JsonArray array, string? title = null)
    {
        var columns = array.OfType<JsonObject>().SelectMany(o => o.Select(p => p.Key)).Distinct().ToArray();
        var table = NewTable(columns);
        if (title is not null)
        {
            table.Title(Markup.Escape(title));
        }
        foreach (var item in array.OfType<JsonObject>())
        {
            table.AddCells(columns.Select(c => (object?)item[c]).ToArray());
        }
        Write(table);
    }
}

using YamlDotNet.RepresentationModel;

namespace MlPlatform.DeploymentTests;

/// <summary>Small accessors over YamlDotNet's representation model, so tests read like the manifests they check.</summary>
internal static class Yaml
{
    /// <summary>Every document of a (multi-document) YAML text.</summary>
    public static IReadOnlyList<YamlMappingNode> LoadDocuments(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    public static IReadOnlyList<YamlMappingNode> LoadFile(string path) => LoadDocuments(File.ReadAllText(path));

    public static YamlNode? Get(this YamlNode node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>The node at a dotted path (<c>spec.template.spec</c>), or null.</summary>
    public static YamlNode? At(this YamlNode node, string path) =>
        path.Split('.').Aggregate<string, YamlNode?>(node, (current, key) => current?.Get(key));

    public static string? Text(this YamlNode node, string path) => (node.At(path) as YamlScalarNode)?.Value;

    public static IReadOnlyList<YamlNode> Items(this YamlNode node, string path) =>
        node.At(path) is YamlSequenceNode seq ? seq.Children.ToList() : [];

    public static IReadOnlyList<string> Keys(this YamlNode node, string path) =>
        node.At(path) is YamlMappingNode map ? map.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value!).ToList() : [];

    public static string Kind(this YamlNode node) => node.Text("kind") ?? "";

    public static string Name(this YamlNode node) => node.Text("metadata.name") ?? "";
}

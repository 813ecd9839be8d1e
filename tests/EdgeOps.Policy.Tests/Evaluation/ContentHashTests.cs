using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Evaluation;

namespace EdgeOps.Policy.Tests.Evaluation;

/// <summary>
/// The content digest keys cached outcomes and converted objects: trees that a policy would see as
/// the same value must agree, and trees it could tell apart must not.
/// </summary>
public sealed class ContentHashTests
{
    private static Node Yaml(string text)
    {
        var bag = new DiagnosticBag();
        var node = YamlReader.ReadDocuments("t.yaml", text, bag).Single();
        Assert.Empty(bag.ToSortedList());
        return node!;
    }

    [Fact]
    public void EqualTrees_ReadSeparately_HaveOneDigest()
    {
        const string text = "kind: Pod\nspec:\n  containers:\n    - {name: a, image: x, ports: [{containerPort: 80}]}\n  hostNetwork: false\n";
        Assert.Equal(ContentHash.Of(Yaml(text)), ContentHash.Of(Yaml(text)));
    }

    [Theory]
    [InlineData("{a: bc}", "{ab: c}")]
    [InlineData("[a, b]", "[ab]")]
    [InlineData("[[a], b]", "[a, [b]]")]
    [InlineData("{x: '1'}", "{x: 1}")]
    [InlineData("{x: 'true'}", "{x: true}")]
    [InlineData("{x: null}", "{x: ''}")]
    [InlineData("{a: 1, b: 2}", "{b: 2, a: 1}")]
    [InlineData("{a: {}}", "{a: []}")]
    [InlineData("{a: [{}]}", "{a: [{}, {}]}")]
    [InlineData("{a: {b: {c: d}}}", "{a: {b: {c: e}}}")]
    public void TreesAPolicyCanTellApart_HaveDifferentDigests(string left, string right) =>
        Assert.NotEqual(ContentHash.Of(Yaml(left)), ContentHash.Of(Yaml(right)));
}

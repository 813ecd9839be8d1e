using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Tests.Yaml;

public sealed class YamlTextTests
{
    private static Node Parse(string yaml) => TestFleets.ParseYaml(yaml);

    [Theory]
    [InlineData("true")]
    [InlineData("12")]
    [InlineData("1.5")]
    [InlineData("null")]
    [InlineData("yes")]
    [InlineData("off")]
    [InlineData("- item")]
    [InlineData("a: b")]
    [InlineData("#comment")]
    [InlineData(" leading")]
    [InlineData("trailing ")]
    [InlineData("")]
    [InlineData("tab\there")]
    [InlineData("bell\u0007")]
    [InlineData("line1\nline2\n")]
    [InlineData("no newline\nat end")]
    [InlineData("two\n\n")]
    [InlineData("  indented\nblock")]
    [InlineData("--flag=x")]
    [InlineData("---")]
    [InlineData("KERNEL==\"video[0-9]*\", ENV{X}==\":capture:\"")]
    public void Write_String_ReadsBackAsTheSameString(string value)
    {
        var tree = new MappingNode([new(ScalarNode.String("k", SourceLocation.None), ScalarNode.String(value, SourceLocation.None))], SourceLocation.None);
        var back = (MappingNode)Parse(YamlText.Write(tree));
        var scalar = Assert.IsType<ScalarNode>(back["k"]);
        Assert.Equal(ScalarKind.String, scalar.Kind);
        Assert.Equal(value, scalar.Value);
    }

    [Fact]
    public void Write_NestedDocument_RoundTripsStructurally()
    {
        const string Source = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: x
              labels: {a: "1", b: "true"}
            spec:
              replicas: 3
              template:
                spec:
                  containers:
                    - name: c
                      args: ["--a", "b c"]
                      env: []
                      resources: {}
                  nested: [[1, 2], [], [{k: v}]]
            """;
        var tree = Parse(Source);
        var written = YamlText.Write(tree);
        Assert.True(NodeEquality.Equal(tree, Parse(written)), written);
        Assert.Equal(written, YamlText.Write(Parse(written)));
    }

    [Fact]
    public void Write_MultiLineString_UsesALiteralBlock()
    {
        var tree = Parse("data:\n  config: \"a: 1\\nb: 2\\n\"\n");
        Assert.Equal("data:\n  config: |\n    a: 1\n    b: 2\n", YamlText.Write(tree));
    }
}

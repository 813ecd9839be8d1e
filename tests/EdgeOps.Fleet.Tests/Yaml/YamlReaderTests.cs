using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Tests.Yaml;

public sealed class YamlReaderTests
{
    private static (IReadOnlyList<Node?> Docs, IReadOnlyList<Diagnostic> Diagnostics) Read(string text, YamlLimits? limits = null)
    {
        var bag = new DiagnosticBag();
        var docs = YamlReader.ReadDocuments("f.yaml", text, bag, limits);
        return (docs, bag.ToSortedList());
    }

    [Fact]
    public void Read_Mapping_KeepsLineAndColumnOfEveryValue()
    {
        var (docs, diagnostics) = Read("a: 1\nb:\n  c: [x, \"y\"]\n");
        Assert.Empty(diagnostics);
        var root = Assert.IsType<MappingNode>(docs.Single());
        Assert.Equal(new SourceLocation("f.yaml", 1, 4), root["a"]!.Location);
        var c = Assert.IsType<SequenceNode>(((MappingNode)root["b"]!)["c"]);
        Assert.Equal(new SourceLocation("f.yaml", 3, 6), c.Location);
        Assert.Equal(new SourceLocation("f.yaml", 3, 10), c[1].Location);
    }

    [Theory]
    [InlineData("v: 12", ScalarKind.Int)]
    [InlineData("v: 0x1F", ScalarKind.Int)]
    [InlineData("v: -1.5e3", ScalarKind.Float)]
    [InlineData("v: .inf", ScalarKind.Float)]
    [InlineData("v: true", ScalarKind.Bool)]
    [InlineData("v: ~", ScalarKind.Null)]
    [InlineData("v:", ScalarKind.Null)]
    [InlineData("v: \"12\"", ScalarKind.String)]
    [InlineData("v: yes", ScalarKind.String)]
    [InlineData("v: 1.2.3", ScalarKind.String)]
    [InlineData("v: !!str 12", ScalarKind.String)]
    public void Read_PlainScalar_ResolvesTypeByTheCoreSchema(string yaml, ScalarKind expected)
    {
        var root = (MappingNode)Read(yaml).Docs.Single()!;
        Assert.Equal(expected, ((ScalarNode)root["v"]!).Kind);
    }

    [Fact]
    public void Read_MultipleDocuments_ReturnsEachAndNullForEmptyOnes()
    {
        var (docs, _) = Read("a: 1\n---\n---\nb: 2\n");
        Assert.Equal(3, docs.Count);
        Assert.Null(docs[1]);
    }

    [Fact]
    public void Read_DuplicateKey_IsReportedAtTheSecondKey()
    {
        var (_, diagnostics) = Read("a: 1\nb: 2\na: 3\n");
        var d = Assert.Single(diagnostics);
        Assert.Equal(Codes.DuplicateKey, d.Code);
        Assert.Equal(new SourceLocation("f.yaml", 3, 1), d.Location);
    }

    [Fact]
    public void Read_SyntaxError_IsLocatedAndHasNoParserPositionPrefix()
    {
        var (_, diagnostics) = Read("a: 1\n b: 2\n");
        var d = Assert.Single(diagnostics);
        Assert.Equal(Codes.YamlSyntax, d.Code);
        Assert.Equal(2, d.Location.Line);
        Assert.DoesNotContain("Line:", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_BillionLaughs_FailsFastWithBoundedMemory()
    {
        var text = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
        for (var i = 1; i <= 12; i++)
        {
            text += $"l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 9))}]\n";
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var (_, diagnostics) = Read(text);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var d = Assert.Single(diagnostics);
        Assert.Equal(Codes.AliasLimit, d.Code);
        Assert.Equal(7, d.Location.Line); // the first alias of l6 takes the count past a million nodes
        Assert.True(allocated < 20 * 1024 * 1024, $"allocated {allocated:N0} bytes");
    }

    [Fact]
    public void Read_AliasWithinTheLimit_SharesTheAnchoredNode()
    {
        var (docs, diagnostics) = Read("base: &b {cpu: 1}\nother: *b\n");
        Assert.Empty(diagnostics);
        var root = (MappingNode)docs.Single()!;
        Assert.Same(root["base"], root["other"]);
    }

    [Fact]
    public void Read_MergeKeys_AreMergedAsKubernetesReadsThem_ExplicitKeysWinning()
    {
        var (docs, diagnostics) = Read("base: &b {cpu: 1, memory: 1Gi}\nextra: &e {cpu: 9, disk: 5Gi}\nother:\n  memory: 2Gi\n  <<: [*b, *e]\n  \"<<\": quoted-is-a-plain-key\n");

        Assert.Empty(diagnostics);
        var other = (MappingNode)((MappingNode)docs.Single()!)["other"]!;
        Assert.Equal(["memory", "<<", "cpu", "disk"], other.Entries.Select(e => e.Key.Value));
        Assert.Equal(("2Gi", "1", "5Gi"), (((ScalarNode)other["memory"]!).Value, ((ScalarNode)other["cpu"]!).Value, ((ScalarNode)other["disk"]!).Value));
    }

    [Fact]
    public void Read_MergeKeyOfAScalar_IsALocatedError()
    {
        var (_, diagnostics) = Read("other:\n  <<: 5\n");

        var d = Assert.Single(diagnostics);
        Assert.Equal((Codes.UnsupportedYaml, 2), (d.Code, d.Location.Line));
        Assert.Contains("takes a mapping or a list of mappings", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DeepNesting_IsRefusedBeforeTheStackOverflows()
    {
        var text = new string('[', 5000) + new string(']', 5000);
        var (_, diagnostics) = Read(text);
        Assert.Equal(Codes.NestingTooDeep, Assert.Single(diagnostics).Code);
    }

    [Fact]
    public void Read_UnknownAlias_IsASyntaxError()
    {
        var (_, diagnostics) = Read("a: *nothing\n");
        Assert.Equal(Codes.YamlSyntax, Assert.Single(diagnostics).Code);
    }
}

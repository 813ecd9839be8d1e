using System.Text;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Tests;
using Xunit;

namespace EdgeOps.Fleet.Tests.Yaml;

/// <summary>
/// The fast block reader must build exactly what the full reader (YamlDotNet) builds, or decline. Every test
/// here compares the two: on hand-written cases, on every YAML file in the repository, on generated
/// documents, and on those documents broken at random, where the full reader must have found the text
/// clean whenever the fast one took it.
/// </summary>
public sealed class BlockYamlReaderTests
{
    [Theory]
    [InlineData("a: 1\nb: two\n")]
    [InlineData("a:\n  b:\n    c: true\n  d: null\ne: ~\n")]
    [InlineData("list:\n  - a\n  - 'b'\n  - \"c\"\n")]
    [InlineData("list:\n- a\n- b\nnext: 1\n")]
    [InlineData("- a\n- b: 1\n  c: 2\n")]
    [InlineData("items:\n  - name: x\n    ports:\n    - 80\n    - 443\n  - name: y\n")]
    [InlineData("-\n  a: 1\n-\n  - x\n")]
    [InlineData("a: {}\nb: []\nc: '{}'\n")]
    [InlineData("apis: [akri.sh]   # comment\nlist: [ a, 'b c', \"d\", 1 ]\nmap: {x: 1, 'y': two}\nsc: {privileged: true}\n")]
    [InlineData("# head\n\na: 1 # trailing\n   # indented comment\nb: 'x # not a comment'\nc: \"y # nor this\"\n")]
    [InlineData("key: it's fine\nother: say \"hi\" # c\nurl: http://example.com:8080/a#frag\nimage: ghcr.io/x/y:1.2@sha256:abc\n")]
    [InlineData("'quoted key': 1\n\"double\": 2\nq: 'it''s'\n")]
    [InlineData("n: -1\nf: 1.5e3\nh: 0x1F\no: 0o17\ninf: .inf\nb: False\ns: 012\nv: v1.0\nd: 2024-01-01\n")]
    [InlineData("a: 1\n---\nb: 2\n")]
    [InlineData("---\na: 1\n---\n---\nb: 2\n---\n")]
    [InlineData("--- # first\na: 1\n")]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    [InlineData("a: 1")]
    [InlineData("a:    spaced    value   \nb:  'q'   # c\n")]
    [InlineData("k8s:\n  metadata:\n    labels:\n      app.kubernetes.io/name: x\n    annotations:\n      example.com/note: a, b, c\n")]
    [InlineData("ünï: cödé ✓\nname: café\n")]
    public void Takes_AndBuildsWhatTheFullReaderBuilds(string text) =>
        Assert.True(AssertAgrees(text), "declined");

    [Theory]
    [InlineData("a: 1\n  b: 2\n")]
    [InlineData("a: b: c\n")]
    [InlineData("a: 1\na: 2\n")]
    [InlineData("- a\nb: 1\n")]
    [InlineData("a:\n  - x\n - y\n")]
    [InlineData("a: 'unclosed\n")]
    [InlineData("a: \"x\"y\n")]
    [InlineData("  a: 1\n b: 2\n")]
    [InlineData("a: -\n")]
    [InlineData("a: [1, [2]]\n")]
    [InlineData("a: [1, ]\n")]
    [InlineData("a: [1,,2]\n")]
    [InlineData("a: {b}\n")]
    [InlineData("a: {b: {c: 1}}\n")]
    [InlineData("a: [1, 2\n")]
    [InlineData("a: &x 1\nb: *x\n")]
    [InlineData("a: |\n  text\n")]
    [InlineData("a: !!str 1\n")]
    [InlineData("a: multi\n  line\n")]
    [InlineData("a:\n")]
    [InlineData("<<: {a: 1}\n")]
    [InlineData("a:\tb\n")]
    [InlineData("a: 1\r\nb: 2\r\n")]
    [InlineData("---x\n")]
    [InlineData("%YAML 1.2\n---\na: 1\n")]
    [InlineData("a: 1\n...\n")]
    [InlineData("a : 1\n")]
    [InlineData("? a\n: 1\n")]
    [InlineData("a: \"esc\\n\"\n")]
    [InlineData("- - 1\n")]
    public void DeclinesWhatItDoesNotRead_AndTheFullReaderStillDoes(string text)
    {
        Assert.False(BlockYamlReader.TryRead("t.yaml", text, YamlLimits.Default, out _));
        var diagnostics = new DiagnosticBag();
        var fully = new DiagnosticBag();
        Assert.Equal(YamlReader.ReadDocumentsFully("t.yaml", text, fully).Count, YamlReader.ReadDocuments("t.yaml", text, diagnostics).Count);
        Assert.Equal(fully.ToSortedList().Select(d => d.ToString()), diagnostics.ToSortedList().Select(d => d.ToString()));
    }

    [Theory]
    [InlineData("a: x\u2028y\nb: 1\n")]
    [InlineData("a: x\u2029y\n")]
    [InlineData("a: x\u0085y\n")]
    [InlineData("a: \u00a0x\u00a0\nb:\u00a0y\n")]
    [InlineData("a: x\u200by\nb: \u3000\n")]
    [InlineData("\u00a0a: 1\n")]
    [InlineData("a: 1\n\u00a0\nb: 2\n")]
    [InlineData("a: x \u00a0# c\n")]
    [InlineData("k: v\u000bw\n")]
    public void UnusualCharacters_AgreeWithTheFullReader_WhereTaken(string text) => AssertAgrees(text);

    [Fact]
    public void ReadsEveryClusterFileOfTheExampleFleet_WhichIsWhatMakesLoadingFast()
    {
        var files = Directory.GetFiles(Path.Combine(RepoPaths.ExampleFleet, "clusters"), "*.yaml", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            Assert.True(BlockYamlReader.TryRead(file, File.ReadAllText(file), YamlLimits.Default, out _), $"declined {file}");
            AssertAgrees(File.ReadAllText(file), file);
        }
    }

    [Fact]
    public void AgreesOnEveryYamlFileInTheRepository()
    {
        var roots = new[] { "examples", "policies", "deploy", Path.Combine("tests", "EdgeOps.Fleet.Tests", "testdata") };
        var files = roots.Select(r => Path.Combine(RepoPaths.Root, r)).Where(Directory.Exists)
            .SelectMany(r => Directory.GetFiles(r, "*.*", SearchOption.AllDirectories))
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .ToList();
        Assert.True(files.Count > 20, $"only {files.Count} YAML files found");
        var taken = 0;
        foreach (var file in files)
        {
            taken += AssertAgrees(File.ReadAllText(file), file) ? 1 : 0;
        }

        // Most of them are plain block YAML, and the fast reader should take those.
        Assert.True(taken * 2 > files.Count, $"the fast reader took {taken} of {files.Count} files");
    }

    [Fact]
    public void AgreesOnGeneratedDocuments_AndOnThemBrokenAtRandom()
    {
        var random = new Random(20261129);
        var taken = 0;
        var mutantsTaken = 0;
        const int Documents = 400;
        for (var i = 0; i < Documents; i++)
        {
            var text = Generate(random, hostile: false);
            var ok = AssertAgrees(text);
            taken += ok ? 1 : 0;
            AssertAgrees(Generate(random, hostile: true));
            for (var m = 0; m < 10; m++)
            {
                mutantsTaken += AssertAgrees(Mutate(text, random)) ? 1 : 0;
            }
        }

        // Generated from the subset it reads, every document is taken; broken, some still are (a comment or a
        // space moved is still clean YAML) and most are not.
        Assert.Equal(Documents, taken);
        Assert.InRange(mutantsTaken, 1, Documents * 10 / 2);
    }

    [Fact]
    public void LimitsHold_ADocumentOverTheNodeLimitIsLeftToTheFullReader()
    {
        var text = string.Concat(Enumerable.Range(0, 50).Select(i => $"- item{i}\n"));
        var limits = YamlLimits.Default with { MaxExpandedNodes = 20 };
        Assert.False(BlockYamlReader.TryRead("t.yaml", text, limits, out _));
        var diagnostics = new DiagnosticBag();
        YamlReader.ReadDocuments("t.yaml", text, diagnostics, limits);
        Assert.Contains(diagnostics.ToSortedList(), d => d.Code == Codes.AliasLimit);

        var deep = string.Concat(Enumerable.Range(0, 30).Select(i => new string(' ', i * 2) + $"k{i}:\n")) + new string(' ', 60) + "leaf: 1\n";
        var shallow = YamlLimits.Default with { MaxDepth = 10 };
        Assert.False(BlockYamlReader.TryRead("t.yaml", deep, shallow, out _));
        diagnostics = new DiagnosticBag();
        YamlReader.ReadDocuments("t.yaml", deep, diagnostics, shallow);
        Assert.Contains(diagnostics.ToSortedList(), d => d.Code == Codes.NestingTooDeep);
    }

    /// <summary>
    /// When the fast reader takes <paramref name="text"/>, the full reader must find no problem in it and build the
    /// same documents. Returns whether the fast reader took it.
    /// </summary>
    private static bool AssertAgrees(string text, string path = "t.yaml")
    {
        if (!BlockYamlReader.TryRead(path, text, YamlLimits.Default, out var fast))
        {
            return false;
        }

        var diagnostics = new DiagnosticBag();
        var full = YamlReader.ReadDocumentsFully(path, text, diagnostics);
        var problems = diagnostics.ToSortedList();
        Assert.True(problems.Count == 0, $"the fast reader took a text the full reader rejects ({(problems.Count > 0 ? problems[0] : null)}):\n{text}");
        Assert.True(full.Count == fast.Count, $"{fast.Count} documents, the full reader {full.Count}:\n{text}");
        for (var i = 0; i < full.Count; i++)
        {
            AssertSame(full[i], fast[i], $"document {i}", text);
        }

        return true;
    }

    private static void AssertSame(Node? expected, Node? actual, string where, string text)
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{where}: {Describe(expected)} vs {Describe(actual)}:\n{text}");
            return;
        }

        Assert.True(expected.GetType() == actual.GetType() && expected.Location == actual.Location,
            $"{where}: {Describe(expected)} vs {Describe(actual)}:\n{text}");
        switch (expected, actual)
        {
            case (ScalarNode e, ScalarNode a):
                Assert.True(e.Value == a.Value && e.Kind == a.Kind && e.IsQuoted == a.IsQuoted && e.IsSingleLinePlain == a.IsSingleLinePlain,
                    $"{where}: {Describe(e)} vs {Describe(a)}:\n{text}");
                break;
            case (SequenceNode e, SequenceNode a):
                Assert.True(e.Count == a.Count, $"{where}: {e.Count} items vs {a.Count}:\n{text}");
                for (var i = 0; i < e.Count; i++)
                {
                    AssertSame(e[i], a[i], $"{where}[{i}]", text);
                }

                break;
            case (MappingNode e, MappingNode a):
                Assert.True(e.Count == a.Count, $"{where}: {e.Count} entries vs {a.Count}:\n{text}");
                for (var i = 0; i < e.Count; i++)
                {
                    AssertSame(e.Entries[i].Key, a.Entries[i].Key, $"{where}.key{i}", text);
                    AssertSame(e.Entries[i].Value, a.Entries[i].Value, $"{where}.{e.Entries[i].Key.Value}", text);
                }

                break;
        }
    }

    private static string Describe(Node? node) => node switch
    {
        null => "null",
        ScalarNode s => $"scalar '{s.Value}' {s.Kind} quoted={s.IsQuoted} plain={s.IsSingleLinePlain} at {s.Location.Line}:{s.Location.Column}",
        _ => $"{node.TypeName} at {node.Location.Line}:{node.Location.Column}",
    };

    private static readonly string[] Words = ["a", "name", "app.kubernetes.io/name", "x-y_z", "true", "null", "~", "1", "-2", "0.5", "1e3", "0x1F", ".inf",
        "v1.2.3", "8Gi", "it's", "say \"hi\"", "a, b", "http://h:80/p#f", "ü✓", "a:b", "ghcr.io/x:1@sha256:ab", "0 3 * * *", "False", "012"];

    /// <summary>Words that are not plain scalars (or not valid YAML) unquoted.</summary>
    private static readonly string[] Hostile = ["#x", "- x", "a #b", "", " ", "{}", "[]", "*", "&a", "!t", "|", ">", "key: v", "'", "\"", "a:", "? x", "%x", "@x", "[a", "a]", "<<", "\\n"];

    [ThreadStatic]
    private static bool _hostile;

    private static string Generate(Random random, bool hostile)
    {
        _hostile = hostile;
        var builder = new StringBuilder();
        if (random.Next(4) == 0)
        {
            builder.Append("---\n");
        }

        WriteMapping(builder, random, 0, 0);
        if (random.Next(3) == 0)
        {
            builder.Append("---\n");
            WriteMapping(builder, random, 0, 0);
        }

        return builder.ToString();
    }

    private static void WriteMapping(StringBuilder builder, Random random, int indent, int depth, bool firstInline = false)
    {
        var count = 1 + random.Next(4);
        var used = new HashSet<string>();
        for (var i = 0; i < count; i++)
        {
            var key = "k" + random.Next(20);
            if (!used.Add(key))
            {
                continue;
            }

            if (!(firstInline && used.Count == 1))
            {
                builder.Append(' ', indent);
            }

            builder.Append(random.Next(6) == 0 ? $"'{key}'" : key).Append(':');
            var choice = depth > 3 ? 0 : random.Next(5);
            switch (choice)
            {
                case 0:
                    builder.Append(' ').Append(Scalar(random)).Append(random.Next(5) == 0 ? " # note" : string.Empty).Append('\n');
                    break;
                case 1:
                    builder.Append(' ').Append(Flow(random)).Append('\n');
                    break;
                case 2:
                    builder.Append('\n');
                    WriteMapping(builder, random, indent + 2, depth + 1);
                    break;
                default:
                    builder.Append('\n');
                    WriteSequence(builder, random, indent + (random.Next(2) * 2), depth + 1);
                    break;
            }

            if (random.Next(8) == 0)
            {
                builder.Append(random.Next(2) == 0 ? "\n" : new string(' ', random.Next(6)) + "# comment\n");
            }
        }
    }

    private static void WriteSequence(StringBuilder builder, Random random, int indent, int depth)
    {
        var count = 1 + random.Next(3);
        for (var i = 0; i < count; i++)
        {
            builder.Append(' ', indent).Append('-');
            switch (depth > 3 ? 0 : random.Next(3))
            {
                case 0:
                    builder.Append(' ').Append(Scalar(random)).Append('\n');
                    break;
                case 1:
                    builder.Append(' ');
                    WriteMapping(builder, random, indent + 2, depth + 1, firstInline: true);
                    break;
                default:
                    builder.Append('\n');
                    WriteMapping(builder, random, indent + 2, depth + 1);
                    break;
            }
        }
    }

    private static string Scalar(Random random, bool inFlow = false)
    {
        var hostile = _hostile && random.Next(4) == 0;
        var word = hostile ? Hostile[random.Next(Hostile.Length)] : Words[random.Next(Words.Length)];
        return random.Next(4) switch
        {
            0 => "'" + word.Replace("'", "''", StringComparison.Ordinal) + "'",
            1 when !word.Contains('"', StringComparison.Ordinal) && !word.Contains('\\', StringComparison.Ordinal) => "\"" + word + "\"",
            _ when !hostile && (inFlow ? word.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is ' ' or '-' or '.' or '_' or '/' or '+' or '~' or '=')) : word.Length > 0 && word[0] == '*')
                => "'" + word.Replace("'", "''", StringComparison.Ordinal) + "'",
            _ => word,
        };
    }

    private static string Flow(Random random)
    {
        var count = random.Next(4);
        var mapping = random.Next(3) == 0;
        var items = Enumerable.Range(0, count).Select(i => mapping ? $"f{i}: {Scalar(random, inFlow: true)}" : Scalar(random, inFlow: true));
        var spaced = random.Next(2) == 0 ? " " : string.Empty;
        return (mapping ? "{" : "[") + spaced + string.Join(", ", items) + spaced + (mapping ? "}" : "]");
    }

    private static readonly string[] Fragments = [" ", "  ", "\n", ":", ": ", "-", "- ", "#", " #", "'", "\"", "---\n", "{", "}", "[", "]", "\t", "&a ", "*a", "|", "\n  ", "x", "\u2028", "\u00a0", "\u0085", "\r\n", "!", "%", "@", "`", "?", ",", "<<: "];

    private static string Mutate(string text, Random random)
    {
        var builder = new StringBuilder(text);
        for (var edits = 1 + random.Next(2); edits > 0 && builder.Length > 0; edits--)
        {
            var at = random.Next(builder.Length);
            if (random.Next(2) == 0)
            {
                builder.Remove(at, Math.Min(1 + random.Next(3), builder.Length - at));
            }
            else
            {
                builder.Insert(at, Fragments[random.Next(Fragments.Length)]);
            }
        }

        return builder.ToString();
    }
}

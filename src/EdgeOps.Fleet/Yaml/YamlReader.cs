using System.Collections.Immutable;
using System.Text.RegularExpressions;
using EdgeOps.Fleet.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace EdgeOps.Fleet.Yaml;

/// <summary>Limits that keep a hostile YAML file from exhausting memory or the stack.</summary>
public sealed record YamlLimits
{
    public static readonly YamlLimits Default = new();

    /// <summary>Nodes a document may hold once every alias is expanded (billion-laughs guard).</summary>
    public long MaxExpandedNodes { get; init; } = 1_000_000;

    /// <summary>Characters of scalar text a document may hold once every alias is expanded (a large anchored scalar repeated).</summary>
    public long MaxExpandedBytes { get; init; } = 32L * 1024 * 1024;

    public int MaxDepth { get; init; } = 200;
}

/// <summary>
/// Reads a YAML stream into <see cref="Node"/> trees with source locations. Plain block YAML, which
/// nearly every fleet file is, goes through <see cref="BlockYamlReader"/>, six times faster; everything
/// else, and every text with a problem to report, through YamlDotNet. Aliases are shared, never
/// copied, and their expanded size is counted as they are met, so an alias bomb fails on the line of
/// the alias that crosses the limit while memory stays proportional to the file.
/// </summary>
public sealed partial class YamlReader
{
    private readonly string _path;
    private readonly YamlLimits _limits;
    private readonly DiagnosticBag _diagnostics;
    private readonly Dictionary<string, (Node Node, Weight Size)> _anchors = new(StringComparer.Ordinal);
    private IParser _parser = null!;
    private long _expanded;
    private long _expandedBytes;
    private Mark _lastMark = Mark.Empty;

    private YamlReader(string path, YamlLimits limits, DiagnosticBag diagnostics)
    {
        _path = path;
        _limits = limits;
        _diagnostics = diagnostics;
    }

    /// <summary>
    /// Parses every document of <paramref name="text"/>. On a syntax error, reports it and returns the
    /// documents before it; an empty document yields a null entry.
    /// </summary>
    public static IReadOnlyList<Node?> ReadDocuments(string path, string text, DiagnosticBag diagnostics, YamlLimits? limits = null)
    {
        limits ??= YamlLimits.Default;
        if (BlockYamlReader.TryRead(path, text, limits, out var documents))
        {
            return documents;
        }

        return new YamlReader(path, limits, diagnostics).Read(text);
    }

    /// <summary>Reads through YamlDotNet only, never the fast reader (to compare the two).</summary>
    internal static IReadOnlyList<Node?> ReadDocumentsFully(string path, string text, DiagnosticBag diagnostics, YamlLimits? limits = null) =>
        new YamlReader(path, limits ?? YamlLimits.Default, diagnostics).Read(text);

    private IReadOnlyList<Node?> Read(string text)
    {
        var documents = new List<Node?>();
        _parser = new Parser(new StringReader(text));
        try
        {
            Expect<StreamStart>();
            while (true)
            {
                var ev = Next();
                if (ev is StreamEnd)
                {
                    break;
                }

                if (ev is not DocumentStart)
                {
                    throw new InvalidOperationException($"unexpected YAML event {ev.GetType().Name}");
                }

                _anchors.Clear();
                _expanded = 0;
                var content = Next();
                if (content is DocumentEnd)
                {
                    documents.Add(null);
                    continue;
                }

                var (node, _) = Build(content, 0);
                Expect<DocumentEnd>();
                documents.Add(node is ScalarNode { IsNull: true } ? null : node);
            }
        }
        catch (YamlException ex)
        {
            _diagnostics.Error(TabAfter(text, _lastMark) is { } tab && ex.Message.Contains("tab", StringComparison.Ordinal) ? tab : Locate(Where(ex)),
                Codes.YamlSyntax, CleanMessage(ex));
        }
        catch (LimitExceededException ex)
        {
            _diagnostics.Error(ex.Location, ex.Code, ex.Message);
        }

        return documents;
    }

    private (Node Node, Weight Size) Build(ParsingEvent ev, int depth)
    {
        if (depth > _limits.MaxDepth)
        {
            throw new LimitExceededException(Locate(ev.Start), Codes.NestingTooDeep,
                $"YAML nesting is deeper than {_limits.MaxDepth} levels");
        }

        switch (ev)
        {
            case Scalar scalar:
                return Register(scalar.Anchor, BuildScalar(scalar), new Weight(1, scalar.Value.Length));

            case AnchorAlias alias:
                if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    throw new YamlException(ev.Start, ev.End, $"alias *{alias.Value.Value} refers to an unknown anchor");
                }

                Count(target.Size, ev);
                return target;

            case SequenceStart seq:
                {
                    Count(new Weight(1, 0), ev);
                    var items = ImmutableArray.CreateBuilder<Node>();
                    var size = new Weight(1, 0);
                    for (var next = Next(); next is not SequenceEnd; next = Next())
                    {
                        var (child, childSize) = Build(next, depth + 1);
                        items.Add(child);
                        size += childSize;
                    }

                    return Register(seq.Anchor, new SequenceNode(items.ToImmutable(), Locate(seq.Start)), size);
                }

            case MappingStart map:
                {
                    Count(new Weight(1, 0), ev);
                    var entries = ImmutableArray.CreateBuilder<KeyValuePair<ScalarNode, Node>>();
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    List<(ScalarNode Key, Node Value)>? merges = null;
                    var size = new Weight(1, 0);
                    for (var next = Next(); next is not MappingEnd; next = Next())
                    {
                        var (keyNode, keySize) = Build(next, depth + 1);
                        if (keyNode is not ScalarNode key)
                        {
                            throw new LimitExceededException(keyNode.Location, Codes.UnsupportedYaml,
                                "mapping keys must be scalars; complex keys are not supported");
                        }

                        var (value, valueSize) = Build(Next(), depth + 1);
                        size += keySize + valueSize;
                        if (key.Value == "<<" && key.IsSingleLinePlain && !key.IsQuoted)
                        {
                            // A merge key, as Kubernetes' own YAML reader takes it: merged after the explicit keys.
                            (merges ??= []).Add((key, value));
                            continue;
                        }

                        if (!seen.Add(key.Value))
                        {
                            _diagnostics.Error(key.Location, Codes.DuplicateKey, $"duplicate key '{key.Value}' in mapping");
                            continue;
                        }

                        entries.Add(new(key, value));
                    }

                    foreach (var (key, value) in merges ?? [])
                    {
                        Merge(key, value, entries, seen);
                    }

                    return Register(map.Anchor, new MappingNode(entries.ToImmutable(), Locate(map.Start)), size);
                }

            default:
                throw new YamlException(ev.Start, ev.End, $"unexpected {ev.GetType().Name}");
        }
    }

    /// <summary>
    /// Adds the entries of a merge key's mapping (or of each mapping of its sequence, the first one winning)
    /// whose keys the mapping does not already have: explicit keys always win, as YAML 1.1 merge keys say.
    /// </summary>
    private static void Merge(ScalarNode key, Node value, ImmutableArray<KeyValuePair<ScalarNode, Node>>.Builder entries, HashSet<string> seen)
    {
        IEnumerable<Node> sources = value switch
        {
            MappingNode one => [one],
            SequenceNode many when many.Items.All(i => i is MappingNode) => many.Items,
            _ => throw new LimitExceededException(key.Location, Codes.UnsupportedYaml,
                "a merge key ('<<') takes a mapping or a list of mappings, usually aliases (<<: *defaults)"),
        };
        foreach (var source in sources.Cast<MappingNode>())
        {
            foreach (var entry in source.Entries)
            {
                if (seen.Add(entry.Key.Value))
                {
                    entries.Add(entry);
                }
            }
        }
    }

    private ScalarNode BuildScalar(Scalar scalar)
    {
        Count(new Weight(1, scalar.Value.Length), scalar);
        var location = Locate(scalar.Start);
        var plain = scalar.Style == ScalarStyle.Plain;
        ScalarKind kind;
        if (!scalar.Tag.IsEmpty)
        {
            kind = scalar.Tag.Value switch
            {
                "tag:yaml.org,2002:str" => ScalarKind.String,
                "tag:yaml.org,2002:int" => ScalarKind.Int,
                "tag:yaml.org,2002:float" => ScalarKind.Float,
                "tag:yaml.org,2002:bool" => ScalarKind.Bool,
                "tag:yaml.org,2002:null" => ScalarKind.Null,
                _ => plain ? ScalarResolver.Resolve(scalar.Value) : ScalarKind.String,
            };
        }
        else
        {
            kind = plain ? ScalarResolver.Resolve(scalar.Value) : ScalarKind.String;
        }

        var singleLine = plain && scalar.Start.Line == scalar.End.Line;
        return new ScalarNode(scalar.Value, kind, location, singleLine, isQuoted: !plain);
    }

    private (Node, Weight) Register(AnchorName anchor, Node node, Weight size)
    {
        if (!anchor.IsEmpty)
        {
            _anchors[anchor.Value] = (node, size);
        }

        return (node, size);
    }

    private void Count(Weight weight, ParsingEvent ev)
    {
        _expanded += weight.Nodes;
        _expandedBytes += weight.Bytes;
        if (_expanded > _limits.MaxExpandedNodes)
        {
            throw new LimitExceededException(Locate(ev.Start), Codes.AliasLimit,
                $"document expands to more than {_limits.MaxExpandedNodes:N0} nodes through aliases (an alias bomb?); refused");
        }

        if (_expandedBytes > _limits.MaxExpandedBytes)
        {
            throw new LimitExceededException(Locate(ev.Start), Codes.AliasLimit,
                $"document expands to more than {_limits.MaxExpandedBytes:N0} characters of text through aliases (an alias bomb?); refused");
        }
    }

    /// <summary>How much a node stands for once expanded: nodes, and characters of scalar text.</summary>
    private readonly record struct Weight(long Nodes, long Bytes)
    {
        public static Weight operator +(Weight a, Weight b) => new(a.Nodes + b.Nodes, a.Bytes + b.Bytes);
    }

    private ParsingEvent Next()
    {
        bool moved;
        try
        {
            moved = _parser.MoveNext();
        }
        catch (Exception ex) when (ex is not YamlException)
        {
            // The parser gave up without a located error (seen on an unclosed flow mapping at the end
            // of a file); point at the last thing it did read.
            throw new YamlException(_lastMark, _lastMark,
                "malformed YAML after this point (an unclosed '{', '[' or quote?)");
        }

        if (!moved || _parser.Current is null)
        {
            throw new YamlException(_lastMark, _lastMark, "unexpected end of the YAML stream");
        }

        _lastMark = _parser.Current.End;
        return _parser.Current;
    }

    private void Expect<T>()
        where T : ParsingEvent
    {
        var ev = Next();
        if (ev is not T)
        {
            throw new YamlException(ev.Start, ev.End, $"expected {typeof(T).Name}, found {ev.GetType().Name}");
        }
    }

    private SourceLocation Locate(Mark mark) =>
        new(_path, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    /// <summary>
    /// Where the problem is: the innermost error's position, and for "while scanning X, found Y" the
    /// position of Y (a tab used as indentation is reported at the tab, not where the mapping began).
    /// </summary>
    private static Mark Where(YamlException ex)
    {
        var inner = ex.InnerException as YamlException ?? ex;
        return inner.Message.Contains(", found ", StringComparison.Ordinal) && inner.End.Line > inner.Start.Line ? inner.End : inner.Start;
    }

    /// <summary>The first tab in a line's indentation from the last event read on: YAML's parser reports such a tab where its mapping began.</summary>
    private SourceLocation? TabAfter(string text, Mark last)
    {
        var lines = text.Split('\n');
        for (var i = (int)Math.Max(0, last.Line - 1); i < lines.Length; i++)
        {
            var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', 0, indent);
            if (tab >= 0)
            {
                return new SourceLocation(_path, i + 1, tab + 1);
            }
        }

        return null;
    }

    private static string CleanMessage(YamlException ex)
    {
        var message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
        message = PositionPrefix().Replace(message, string.Empty).Trim();
        if (message.Length > 0 && char.IsUpper(message[0]) && !(message.Length > 1 && char.IsUpper(message[1])))
        {
            message = char.ToLowerInvariant(message[0]) + message[1..];
        }

        return message.TrimEnd('.');
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex PositionPrefix();

    private sealed class LimitExceededException(SourceLocation location, string code, string message) : Exception(message)
    {
        public SourceLocation Location { get; } = location;

        public string Code { get; } = code;
    }
}

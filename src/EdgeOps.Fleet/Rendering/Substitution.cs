using System.Collections.Immutable;
using System.Text;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Rendering;

/// <summary>Resolves a variable name to a value node, or null when the name is unknown.</summary>
public delegate Node? VariableResolver(string name);

/// <summary>
/// <c>${name}</c> substitution in string scalars. A scalar that is exactly one variable takes the
/// variable's value with its type (a number stays a number, a mapping stays a mapping); otherwise
/// values are written into the text. <c>$${</c> writes a literal <c>${</c>. Unchanged subtrees are
/// returned as they are, so renderings share every node that holds no variable.
/// </summary>
public static class Substitution
{
    /// <summary>Characters a scalar may grow to by interpolating variables into text.</summary>
    public const int MaxTextLength = 1024 * 1024;

    public static bool ContainsVariables(Node node) => node switch
    {
        ScalarNode s => s.Kind == ScalarKind.String && s.Value.Contains("${", StringComparison.Ordinal),
        SequenceNode seq => seq.Items.Any(ContainsVariables),
        MappingNode map => map.Entries.Any(e => ContainsVariables(e.Value)),
        _ => false,
    };

    /// <summary>
    /// The distinct names of the variables <paramref name="node"/> refers to, in the order first met; null when a
    /// reference is malformed (unterminated), since what that renders to is then a diagnostic, not a value.
    /// </summary>
    public static IReadOnlyList<string>? VariableNames(Node node)
    {
        // The substitution itself finds them, so that names are read exactly as rendering reads them.
        var names = new List<string>();
        var malformed = false;
        Apply(node, name =>
        {
            if (!names.Contains(name))
            {
                names.Add(name);
            }

            return ScalarNode.NullValue;
        }, (_, _, _) => malformed = true);
        return malformed ? null : names;
    }

    /// <summary>
    /// Substitutes every variable in <paramref name="node"/>. Unknown variables and malformed
    /// references are reported through <paramref name="report"/> with their exact location.
    /// </summary>
    public static Node Apply(Node node, VariableResolver resolve, Action<SourceLocation, string, string> report)
    {
        switch (node)
        {
            case ScalarNode { Kind: ScalarKind.String } s when s.Value.Contains("${", StringComparison.Ordinal):
                return ApplyScalar(s, resolve, report);
            case SequenceNode seq:
                {
                    ImmutableArray<Node>.Builder? changed = null;
                    for (var i = 0; i < seq.Count; i++)
                    {
                        var item = Apply(seq[i], resolve, report);
                        if (changed is null && !ReferenceEquals(item, seq[i]))
                        {
                            changed = ImmutableArray.CreateBuilder<Node>(seq.Count);
                            changed.AddRange(seq.Items, i);
                        }

                        changed?.Add(item);
                    }

                    return changed is null ? seq : new SequenceNode(changed.MoveToImmutable(), seq.Location);
                }

            case MappingNode map:
                {
                    ImmutableArray<KeyValuePair<ScalarNode, Node>>.Builder? changed = null;
                    for (var i = 0; i < map.Count; i++)
                    {
                        var entry = map.Entries[i];
                        var value = Apply(entry.Value, resolve, report);
                        if (changed is null && !ReferenceEquals(value, entry.Value))
                        {
                            changed = ImmutableArray.CreateBuilder<KeyValuePair<ScalarNode, Node>>(map.Count);
                            for (var j = 0; j < i; j++)
                            {
                                changed.Add(map.Entries[j]);
                            }
                        }

                        changed?.Add(new(entry.Key, value));
                    }

                    return changed is null ? map : new MappingNode(changed.MoveToImmutable(), map.Location);
                }

            default:
                return node;
        }
    }

    private static Node ApplyScalar(ScalarNode scalar, VariableResolver resolve, Action<SourceLocation, string, string> report)
    {
        var text = scalar.Value;
        // An unquoted scalar that is exactly one variable takes the value's type; a quoted one stays text.
        if (!scalar.IsQuoted && text.StartsWith("${", StringComparison.Ordinal) && text.EndsWith('}') && text.IndexOf('}', StringComparison.Ordinal) == text.Length - 1)
        {
            var name = text[2..^1].Trim();
            var value = resolve(name);
            if (value is null)
            {
                report(Column(scalar, 0), Diagnostics.Codes.UnknownVariable, UnknownMessage(name));
                return scalar;
            }

            return value;
        }

        var builder = new StringBuilder(text.Length + 16);
        var i = 0;
        while (i < text.Length)
        {
            var dollar = text.IndexOf('$', i);
            if (dollar < 0 || dollar == text.Length - 1)
            {
                builder.Append(text, i, text.Length - i);
                break;
            }

            builder.Append(text, i, dollar - i);
            if (text[dollar + 1] == '$' && dollar + 2 < text.Length && text[dollar + 2] == '{')
            {
                builder.Append("${");
                i = dollar + 3;
                continue;
            }

            if (text[dollar + 1] != '{')
            {
                builder.Append('$');
                i = dollar + 1;
                continue;
            }

            var close = text.IndexOf('}', dollar + 2);
            if (close < 0)
            {
                report(Column(scalar, dollar), Diagnostics.Codes.UnknownVariable, "unterminated variable reference '${' (write $${ for a literal ${)");
                return scalar;
            }

            var name = text[(dollar + 2)..close].Trim();
            var value = resolve(name);
            if (value is null)
            {
                report(Column(scalar, dollar), Diagnostics.Codes.UnknownVariable, UnknownMessage(name));
                builder.Append(text, dollar, close - dollar + 1);
            }
            else if (value is ScalarNode { IsNull: false } v)
            {
                if (builder.Length + v.Value.Length > MaxTextLength)
                {
                    report(Column(scalar, dollar), Diagnostics.Codes.ExpansionLimit,
                        $"text grows past {MaxTextLength:N0} characters through variables; refused");
                    return scalar;
                }

                builder.Append(v.Value);
            }
            else if (value is ScalarNode)
            {
                // null interpolates as empty text
            }
            else
            {
                report(Column(scalar, dollar), Diagnostics.Codes.UnknownVariable,
                    $"variable '{name}' is a {value.TypeName} and cannot be written inside text; use it as the whole value");
                builder.Append(text, dollar, close - dollar + 1);
            }

            i = close + 1;
        }

        var result = builder.ToString();
        return result == text ? scalar : ScalarNode.String(result, scalar.Location);
    }

    private static string UnknownMessage(string name) => name.Length == 0
        ? "empty variable reference '${}'"
        : $"unknown variable '{name}'";

    private static SourceLocation Column(ScalarNode scalar, int offset) =>
        scalar.IsSingleLinePlain ? scalar.Location.WithColumnOffset(offset) : scalar.Location;
}

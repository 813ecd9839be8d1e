using System.Text;

namespace EdgeOps.Fleet.Yaml;

/// <summary>
/// Writes node trees as block-style YAML, deterministically: keys in their stored order, strings
/// quoted only where a plain scalar would read back as something else, multi-line strings as
/// literal blocks. Reading the output back yields the same tree.
/// </summary>
public static class YamlText
{
    public static string Write(Node node)
    {
        var builder = new StringBuilder();
        Write(builder, node);
        return builder.ToString();
    }

    /// <summary>Writes a stream of documents separated by <c>---</c>.</summary>
    public static string WriteStream(IEnumerable<Node> documents)
    {
        var builder = new StringBuilder();
        foreach (var document in documents)
        {
            builder.Append("---\n");
            Write(builder, document);
        }

        return builder.ToString();
    }

    public static void Write(StringBuilder builder, Node node)
    {
        switch (node)
        {
            case MappingNode { Count: > 0 } map:
                WriteMapping(builder, map, 0);
                break;
            case SequenceNode { Count: > 0 } seq:
                WriteSequence(builder, seq, 0);
                break;
            default:
                WriteInline(builder, node, 0);
                builder.Append('\n');
                break;
        }
    }

    private static void WriteMapping(StringBuilder builder, MappingNode map, int indent)
    {
        var first = true;
        foreach (var (key, value) in map.Entries)
        {
            if (!first)
            {
                builder.Append(' ', indent);
            }

            first = false;
            builder.Append(FormatString(key.Value, forKey: true)).Append(':');
            WriteValue(builder, value, indent, inSequence: false);
        }
    }

    private static void WriteSequence(StringBuilder builder, SequenceNode seq, int indent)
    {
        var first = true;
        foreach (var item in seq.Items)
        {
            if (!first)
            {
                builder.Append(' ', indent);
            }

            first = false;
            builder.Append('-');
            WriteValue(builder, item, indent, inSequence: true);
        }
    }

    private static void WriteValue(StringBuilder builder, Node value, int indent, bool inSequence)
    {
        switch (value)
        {
            case MappingNode { Count: > 0 } child:
                if (inSequence)
                {
                    builder.Append(' ');
                    WriteMapping(builder, child, indent + 2);
                }
                else
                {
                    builder.Append('\n').Append(' ', indent + 2);
                    WriteMapping(builder, child, indent + 2);
                }

                break;
            case SequenceNode { Count: > 0 } child:
                if (inSequence)
                {
                    builder.Append(' ');
                    WriteSequence(builder, child, indent + 2);
                }
                else
                {
                    builder.Append('\n').Append(' ', indent);
                    WriteSequence(builder, child, indent);
                }

                break;
            default:
                builder.Append(' ');
                WriteInline(builder, value, indent + 2);
                builder.Append('\n');
                break;
        }
    }

    private static void WriteInline(StringBuilder builder, Node node, int indent)
    {
        switch (node)
        {
            case MappingNode:
                builder.Append("{}");
                break;
            case SequenceNode:
                builder.Append("[]");
                break;
            case ScalarNode s:
                switch (s.Kind)
                {
                    case ScalarKind.Null:
                        builder.Append("null");
                        break;
                    case ScalarKind.Bool:
                        builder.Append(s.TryGetBool(out var b) && b ? "true" : "false");
                        break;
                    case ScalarKind.Int or ScalarKind.Float:
                        builder.Append(ScalarResolver.Resolve(s.Value) == s.Kind ? s.Value : Quote(s.Value));
                        break;
                    default:
                        if (CanUseLiteralBlock(s.Value))
                        {
                            WriteLiteralBlock(builder, s.Value, indent);
                        }
                        else
                        {
                            builder.Append(FormatString(s.Value, forKey: false));
                        }

                        break;
                }

                break;
        }
    }

    private static bool CanUseLiteralBlock(string value)
    {
        if (!value.Contains('\n', StringComparison.Ordinal) || value.Length == 0 || value[0] is ' ' or '\t' or '\n')
        {
            return false;
        }

        foreach (var line in value.Split('\n'))
        {
            if (line.EndsWith(' ') || line.EndsWith('\t') || line.Contains('\r', StringComparison.Ordinal) || NeedsEscape(line))
            {
                return false;
            }
        }

        return true;
    }

    private static void WriteLiteralBlock(StringBuilder builder, string value, int indent)
    {
        var trailing = 0;
        while (trailing < value.Length && value[value.Length - 1 - trailing] == '\n')
        {
            trailing++;
        }

        builder.Append(trailing switch { 0 => "|-", 1 => "|", _ => "|+" });
        var body = value[..^trailing];
        foreach (var line in body.Split('\n'))
        {
            builder.Append('\n');
            if (line.Length > 0)
            {
                builder.Append(' ', indent).Append(line);
            }
        }

        for (var i = 1; i < trailing; i++)
        {
            builder.Append('\n');
        }
    }

    private static string FormatString(string value, bool forKey)
    {
        if (value.Length == 0)
        {
            return "\"\"";
        }

        return NeedsQuotes(value, forKey) ? Quote(value) : value;
    }

    private static bool NeedsQuotes(string value, bool forKey)
    {
        if (ScalarResolver.Resolve(value) != ScalarKind.String)
        {
            return true;
        }

        // YAML 1.1 readers (Kubernetes' own) take these as booleans; quote them so every reader agrees.
        if (value is "y" or "Y" or "yes" or "Yes" or "YES" or "n" or "N" or "no" or "No" or "NO" or "on" or "On" or "ON" or "off" or "Off" or "OFF" or "=")
        {
            return true;
        }

        var c = value[0];
        if (c is '-' or '?' or ':' && value.Length > 1 && value[1] is not ' ' and not '\t' && !value.StartsWith("---", StringComparison.Ordinal))
        {
            // "-x", "?x" and ":x" are plain scalars; "- x" would start a sequence entry.
        }
        else if (c is '-' or '?' or ':' or ',' or '[' or ']' or '{' or '}' or '#' or '&' or '*' or '!' or '|' or '>' or '\'' or '"' or '%' or '@' or '`' or ' ' or '\t')
        {
            // "-x" and ":x" are plain-safe only in some positions; quoting is simpler and always right.
            return true;
        }

        if (value[^1] is ' ' or '\t' or ':')
        {
            return true;
        }

        if (value.Contains(": ", StringComparison.Ordinal) || value.Contains(" #", StringComparison.Ordinal) || NeedsEscape(value))
        {
            return true;
        }

        _ = forKey;
        return value.Contains('\n', StringComparison.Ordinal);
    }

    private static bool NeedsEscape(string value)
    {
        foreach (var ch in value)
        {
            if ((ch < 0x20 && ch is not '\n' and not '\t') || ch is '\u007F' or '\u0085' or '\u2028' or '\u2029' or '\uFEFF')
            {
                return true;
            }
        }

        return false;
    }

    private static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var ch in value)
        {
            switch (ch)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                default:
                    if (ch < 0x20 || ch == 0x7F || ch is '\u0085' or '\u2028' or '\u2029' or '\uFEFF')
                    {
                        builder.Append("\\u").Append(((int)ch).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(ch);
                    }

                    break;
            }
        }

        return builder.Append('"').ToString();
    }
}

using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace EdgeOps.Fleet.Yaml;

/// <summary>Writes node trees as JSON: compact and byte-stable, for hashing, diffing and API bodies.</summary>
public static class JsonText
{
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
    private static readonly JsonWriterOptions Indented = Compact with { Indented = true };

    /// <summary>The options of the compact form, for a caller that writes into a writer of its own.</summary>
    public static JsonWriterOptions CompactOptions => Compact;

    public static string Write(Node node, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, indented ? Indented : Compact))
        {
            Write(writer, node);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter writer, Node node)
    {
        switch (node)
        {
            case MappingNode map:
                writer.WriteStartObject();
                foreach (var (key, value) in map.Entries)
                {
                    writer.WritePropertyName(key.Value);
                    Write(writer, value);
                }

                writer.WriteEndObject();
                break;
            case SequenceNode seq:
                writer.WriteStartArray();
                foreach (var item in seq.Items)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case ScalarNode s:
                WriteScalar(writer, s);
                break;
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, ScalarNode s)
    {
        switch (s.Kind)
        {
            case ScalarKind.Null:
                writer.WriteNullValue();
                break;
            case ScalarKind.Bool:
                writer.WriteBooleanValue(s.TryGetBool(out var b) && b);
                break;
            case ScalarKind.Int when s.TryGetInt64(out var l):
                writer.WriteNumberValue(l);
                break;
            case ScalarKind.Float when s.TryGetDouble(out var d) && double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case ScalarKind.Int or ScalarKind.Float:
                // Out of JSON's range (a huge integer, .inf, .nan): keep the text rather than lose it.
                writer.WriteStringValue(s.Value);
                break;
            default:
                writer.WriteStringValue(s.Value);
                break;
        }
    }
}

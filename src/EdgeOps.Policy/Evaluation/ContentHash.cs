using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// A digest of an object's JSON form. Objects that render identically hash identically; a
/// rendered node shared across clusters is hashed once. The JSON is written into a buffer each
/// thread keeps and hashed from there, never made into a string.
/// </summary>
internal static class ContentHash
{
    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? _scratch;

    public static string Of(Node node) => node.ContentDigest ??= Digest(node);

    public static string Combine(IEnumerable<string> hashes) => Digest(string.Join('|', hashes));

    public static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Digest(Node node)
    {
        var (buffer, writer) = _scratch ??= Create();
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonText.Write(writer, node);
        writer.Flush();
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer.WrittenSpan, digest);
        if (buffer.Capacity > 1 << 20)
        {
            // One huge object must not pin a huge buffer to the thread for good.
            _scratch = null;
        }

        return Convert.ToHexStringLower(digest);
    }

    private static (ArrayBufferWriter<byte>, Utf8JsonWriter) Create()
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        return (buffer, new Utf8JsonWriter(buffer, JsonText.CompactOptions));
    }
}

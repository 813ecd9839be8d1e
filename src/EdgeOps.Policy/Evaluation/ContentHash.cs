using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// A digest of a node tree's content, the key the outcome cache and the realms keep values under.
/// <para>
/// It is a hash tree: a mapping or list is hashed over its scalars and the digests of its child
/// mappings and lists, and every digest is kept on its node. Rendering builds a cluster's objects
/// around subtrees it shares with every other cluster (a pod spec that no value touches, a workload's
/// manifests), so hashing a rendered object re-hashes only the few nodes rendering made anew; a
/// shared subtree is hashed once for the whole fleet.
/// </para>
/// <para>
/// The encoding is unambiguous (a tag for every node kind, lengths before text), so equal digests mean
/// equal trees: the same keys in the same order and scalars of the same kind and text, which is
/// exactly what makes two JavaScript copies equal.
/// </para>
/// </summary>
internal static class ContentHash
{
    private const int DigestHexLength = SHA256.HashSizeInBytes * 2;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _buffer;

    public static string Of(Node node) => node switch
    {
        MappingNode or SequenceNode => node.ContentDigest ?? Hash(node),
        _ => node.ContentDigest ??= HashScalar((ScalarNode)node),
    };

    public static string Combine(IEnumerable<string> hashes) => Digest(string.Join('|', hashes));

    public static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Hash(Node node)
    {
        // Children first (each keeps its digest), so that encoding this node needs no recursion and one
        // buffer per thread serves every level.
        switch (node)
        {
            case MappingNode map:
                foreach (var (_, value) in map.Entries)
                {
                    if (value is MappingNode or SequenceNode && value.ContentDigest is null)
                    {
                        Hash(value);
                    }
                }

                break;
            case SequenceNode seq:
                foreach (var item in seq.Items)
                {
                    if (item is MappingNode or SequenceNode && item.ContentDigest is null)
                    {
                        Hash(item);
                    }
                }

                break;
        }

        var buffer = _buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        switch (node)
        {
            case MappingNode map:
                Tag(buffer, (byte)'M', map.Count);
                foreach (var (key, value) in map.Entries)
                {
                    Text(buffer, (byte)'k', key.Value);
                    Child(buffer, value);
                }

                break;
            case SequenceNode seq:
                Tag(buffer, (byte)'S', seq.Count);
                foreach (var item in seq.Items)
                {
                    Child(buffer, item);
                }

                break;
        }

        var digest = Finish(buffer.WrittenSpan);
        if (buffer.Capacity > 1 << 20)
        {
            // One huge node must not pin a huge buffer to the thread for good.
            _buffer = null;
        }

        return node.ContentDigest = digest;
    }

    private static string HashScalar(ScalarNode scalar)
    {
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        Child(buffer, scalar);
        return Finish(buffer.WrittenSpan);
    }

    private static void Child(ArrayBufferWriter<byte> buffer, Node node)
    {
        switch (node)
        {
            case ScalarNode scalar:
                Text(buffer, (byte)('0' + (int)scalar.Kind), scalar.Value);
                break;
            default:
                var digest = node.ContentDigest!;
                var span = buffer.GetSpan(1 + DigestHexLength);
                span[0] = (byte)'D';
                Encoding.ASCII.GetBytes(digest, span[1..]);
                buffer.Advance(1 + DigestHexLength);
                break;
        }
    }

    private static void Tag(ArrayBufferWriter<byte> buffer, byte tag, int count)
    {
        var span = buffer.GetSpan(5);
        span[0] = tag;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], count);
        buffer.Advance(5);
    }

    private static void Text(ArrayBufferWriter<byte> buffer, byte tag, string text)
    {
        var span = buffer.GetSpan(5 + Encoding.UTF8.GetMaxByteCount(text.Length));
        var length = Encoding.UTF8.GetBytes(text, span[5..]);
        span[0] = tag;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], length);
        buffer.Advance(5 + length);
    }

    private static string Finish(ReadOnlySpan<byte> encoded)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(encoded, digest);
        return Convert.ToHexStringLower(digest);
    }
}

using System.Security.Cryptography;
using System.Text;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// A digest of an object's JSON form. Objects that render identically hash identically; a
/// rendered node shared across clusters is hashed once.
/// </summary>
internal static class ContentHash
{
    public static string Of(Node node) => node.ContentDigest ??= Digest(JsonText.Write(node));

    public static string Combine(IEnumerable<string> hashes) => Digest(string.Join('|', hashes));

    public static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

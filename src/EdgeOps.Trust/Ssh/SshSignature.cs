using System.Security.Cryptography;
using System.Text;

namespace EdgeOps.Trust.Ssh;

/// <summary>
/// An SSHSIG signature (OpenSSH's PROTOCOL.sshsig), as git stores it in a commit's gpgsig header:
/// the signer's public key, the namespace, the hash algorithm and the signature itself.
/// </summary>
public sealed class SshSignature
{
    private const string Armor = "-----BEGIN SSH SIGNATURE-----";
    private const string ArmorEnd = "-----END SSH SIGNATURE-----";
    private static readonly byte[] Magic = "SSHSIG"u8.ToArray();

    private SshSignature(SshPublicKey key, string @namespace, string hashAlgorithm, byte[] signature)
    {
        Key = key;
        Namespace = @namespace;
        HashAlgorithm = hashAlgorithm;
        Signature = signature;
    }

    public SshPublicKey Key { get; }

    public string Namespace { get; }

    public string HashAlgorithm { get; }

    private byte[] Signature { get; }

    public static bool IsSshSignature(string text) => text.TrimStart().StartsWith(Armor, StringComparison.Ordinal);

    public static SshSignature Parse(string armored)
    {
        var text = armored.Trim();
        if (!text.StartsWith(Armor, StringComparison.Ordinal) || !text.EndsWith(ArmorEnd, StringComparison.Ordinal))
        {
            throw new FormatException("not an SSH signature (no BEGIN/END SSH SIGNATURE armor)");
        }

        var body = text[Armor.Length..^ArmorEnd.Length];
        var blob = Convert.FromBase64String(string.Concat(body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        if (!blob.AsSpan().StartsWith(Magic))
        {
            throw new FormatException("SSH signature without the SSHSIG magic");
        }

        var reader = new SshReader(blob.AsSpan(Magic.Length));
        var version = reader.ReadUInt32();
        if (version != 1)
        {
            throw new FormatException($"unsupported SSHSIG version {version}");
        }

        var key = SshPublicKey.FromBlob(reader.ReadString());
        var ns = reader.ReadText();
        reader.ReadString(); // reserved
        var hash = reader.ReadText();
        var signature = reader.ReadString().ToArray();
        return new SshSignature(key, ns, hash, signature);
    }

    /// <summary>Whether the signature covers <paramref name="message"/> in <paramref name="expectedNamespace"/> and was made by its key.</summary>
    public bool Verify(ReadOnlySpan<byte> message, string expectedNamespace)
    {
        if (Namespace != expectedNamespace)
        {
            return false;
        }

        byte[] digest = HashAlgorithm switch
        {
            "sha512" => SHA512.HashData(message),
            "sha256" => SHA256.HashData(message),
            _ => [],
        };
        if (digest.Length == 0)
        {
            return false;
        }

        // The signed data: MAGIC, then namespace, reserved, hash algorithm and H(message) as SSH strings.
        var signed = new List<byte>(Magic);
        signed.AddRange(SshReader.String(Encoding.UTF8.GetBytes(Namespace)));
        signed.AddRange(SshReader.String([]));
        signed.AddRange(SshReader.String(Encoding.UTF8.GetBytes(HashAlgorithm)));
        signed.AddRange(SshReader.String(digest));
        return Key.Verify(signed.ToArray(), Signature);
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace EdgeOps.Trust.Ssh;

/// <summary>
/// Makes SSHSIG signatures (OpenSSH's PROTOCOL.sshsig, what <c>ssh-keygen -Y sign</c> writes) with an Ed25519 key
/// read from an unencrypted OpenSSH private key file. A cluster signs its status reports with it (namespace
/// <c>edgeops-report</c>); the public half is listed in its Cluster object, so the fleet repo says who may report
/// as whom, and anyone can check a report with <c>ssh-keygen -Y verify</c> or <see cref="SshSignature"/>.
/// </summary>
public sealed class SshSigner : IDisposable
{
    private const string PrivateArmor = "-----BEGIN OPENSSH PRIVATE KEY-----";
    private const string PrivateArmorEnd = "-----END OPENSSH PRIVATE KEY-----";
    private static readonly byte[] KeyMagic = "openssh-key-v1\0"u8.ToArray();
    private readonly Key _key;

    private SshSigner(Key key, SshPublicKey publicKey)
    {
        _key = key;
        PublicKey = publicKey;
    }

    public SshPublicKey PublicKey { get; }

    /// <summary>Reads an unencrypted OpenSSH Ed25519 private key (as <c>ssh-keygen -t ed25519 -N ""</c> writes it).</summary>
    /// <exception cref="FormatException">Not such a key: another type, a passphrase, or damage.</exception>
    public static SshSigner FromOpenSsh(string text)
    {
        var trimmed = text.Trim();
        if (!trimmed.StartsWith(PrivateArmor, StringComparison.Ordinal) || !trimmed.EndsWith(PrivateArmorEnd, StringComparison.Ordinal))
        {
            throw new FormatException("not an OpenSSH private key (no BEGIN/END OPENSSH PRIVATE KEY armor)");
        }

        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(string.Concat(trimmed[PrivateArmor.Length..^PrivateArmorEnd.Length].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        }
        catch (FormatException ex)
        {
            throw new FormatException($"the private key is not base64: {ex.Message}", ex);
        }

        if (!blob.AsSpan().StartsWith(KeyMagic))
        {
            throw new FormatException("the private key lacks the openssh-key-v1 magic");
        }

        try
        {
            var reader = new SshReader(blob.AsSpan(KeyMagic.Length));
            var cipher = reader.ReadText();
            var kdf = reader.ReadText();
            reader.ReadString(); // kdf options
            if (cipher != "none" || kdf != "none")
            {
                throw new FormatException("the private key is protected by a passphrase; the agent needs an unencrypted key file (keep it readable by the agent only)");
            }

            if (reader.ReadUInt32() != 1)
            {
                throw new FormatException("the private key file holds more than one key");
            }

            var publicBlob = reader.ReadString().ToArray();
            var secret = new SshReader(reader.ReadString());
            if (secret.ReadUInt32() != secret.ReadUInt32())
            {
                throw new FormatException("the private key's check integers differ (damaged, or a wrong passphrase)");
            }

            var type = secret.ReadText();
            if (type != "ssh-ed25519")
            {
                throw new FormatException($"reports are signed with Ed25519 keys; this is {type}");
            }

            secret.ReadString(); // the public key again
            var seedAndPublic = secret.ReadString();
            if (seedAndPublic.Length != 64)
            {
                throw new FormatException("the Ed25519 private key is not 64 bytes");
            }

            var key = Key.Import(SignatureAlgorithm.Ed25519, seedAndPublic[..32], KeyBlobFormat.RawPrivateKey);
            return new SshSigner(key, SshPublicKey.FromBlob(publicBlob));
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new FormatException($"the private key is damaged: {ex.Message}", ex);
        }
    }

    /// <summary>An armored SSHSIG signature of <paramref name="message"/> in <paramref name="namespace"/> (sha512).</summary>
    public string Sign(ReadOnlySpan<byte> message, string @namespace)
    {
        var signed = Concat(
            "SSHSIG"u8,
            SshReader.String(Encoding.UTF8.GetBytes(@namespace)),
            SshReader.String([]),
            SshReader.String("sha512"u8),
            SshReader.String(SHA512.HashData(message)));
        var raw = SignatureAlgorithm.Ed25519.Sign(_key, signed);
        var signature = Concat(SshReader.String("ssh-ed25519"u8), SshReader.String(raw));
        var blob = Concat(
            "SSHSIG"u8,
            UInt32(1),
            SshReader.String(PublicKey.Blob),
            SshReader.String(Encoding.UTF8.GetBytes(@namespace)),
            SshReader.String([]),
            SshReader.String("sha512"u8),
            SshReader.String(signature));
        var base64 = Convert.ToBase64String(blob);
        var text = new StringBuilder("-----BEGIN SSH SIGNATURE-----\n");
        for (var i = 0; i < base64.Length; i += 70)
        {
            text.Append(base64.AsSpan(i, Math.Min(70, base64.Length - i))).Append('\n');
        }

        return text.Append("-----END SSH SIGNATURE-----\n").ToString();
    }

    public void Dispose() => _key.Dispose();

    private static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Concat(params ReadOnlySpan<byte[]> parts)
    {
        var result = new byte[parts.ToArray().Sum(p => p.Length)];
        var at = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, at);
            at += part.Length;
        }

        return result;
    }

    private static byte[] Concat(ReadOnlySpan<byte> first, params ReadOnlySpan<byte[]> rest) => Concat([first.ToArray(), .. rest]);
}

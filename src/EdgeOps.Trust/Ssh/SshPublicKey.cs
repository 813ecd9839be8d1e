using System.Security.Cryptography;
using NSec.Cryptography;

namespace EdgeOps.Trust.Ssh;

/// <summary>
/// An SSH public key (ssh-ed25519, ecdsa-sha2-nistp256/384, ssh-rsa), as written in allowed_signers
/// and embedded in SSH signatures, able to verify a signature over data.
/// </summary>
public sealed class SshPublicKey : IEquatable<SshPublicKey>
{
    private SshPublicKey(string type, byte[] blob)
    {
        Type = type;
        Blob = blob;
    }

    public string Type { get; }

    /// <summary>The wire encoding; two keys are the same key when their blobs are equal.</summary>
    public byte[] Blob { get; }

    /// <summary>SHA256:base64 fingerprint, as ssh-keygen -l shows it.</summary>
    public string Fingerprint => "SHA256:" + Convert.ToBase64String(SHA256.HashData(Blob)).TrimEnd('=');

    public static SshPublicKey FromBlob(ReadOnlySpan<byte> blob)
    {
        var reader = new SshReader(blob);
        var type = reader.ReadText();
        if (type is not ("ssh-ed25519" or "ecdsa-sha2-nistp256" or "ecdsa-sha2-nistp384" or "ssh-rsa"))
        {
            throw new FormatException($"unsupported SSH key type {type}");
        }

        // The key's fields must be whole, of the right size, and nothing may follow them.
        switch (type)
        {
            case "ssh-ed25519":
                if (reader.ReadString().Length != 32)
                {
                    throw new FormatException("an ssh-ed25519 key must be 32 bytes");
                }

                break;
            case "ecdsa-sha2-nistp256" or "ecdsa-sha2-nistp384":
                var curve = reader.ReadText();
                var point = reader.ReadString();
                var size = curve == "nistp256" ? 32 : 48;
                if ("ecdsa-sha2-" + curve != type || point.Length != 1 + (2 * size) || point[0] != 4)
                {
                    throw new FormatException($"malformed {type} key");
                }

                break;
            default:
                reader.ReadString();
                if (reader.ReadString().TrimStart((byte)0).Length < 256)
                {
                    throw new FormatException("RSA keys shorter than 2048 bits are not accepted");
                }

                break;
        }

        if (!reader.AtEnd)
        {
            throw new FormatException($"trailing bytes after the {type} key");
        }

        return new SshPublicKey(type, blob.ToArray());
    }

    /// <summary>Reads "type base64 [comment]".</summary>
    public static SshPublicKey Parse(string type, string base64)
    {
        var key = FromBlob(Convert.FromBase64String(base64));
        if (key.Type != type)
        {
            throw new FormatException($"key says {key.Type} but is written as {type}");
        }

        return key;
    }

    /// <summary>Verifies an SSH signature blob (string algorithm, string signature) over <paramref name="data"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signatureBlob)
    {
        // A signature is attacker-controlled input: anything malformed (a short blob, a point off the
        // curve, a wrong-sized Ed25519 signature) is a failed verification, never an exception.
        try
        {
            return VerifyCore(data, signatureBlob);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private bool VerifyCore(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signatureBlob)
    {
        var signature = new SshReader(signatureBlob);
        var algorithm = signature.ReadText();
        var raw = signature.ReadString();
        var key = new SshReader(Blob);
        key.ReadText();
        switch (Type)
        {
            case "ssh-ed25519" when algorithm == "ssh-ed25519":
                {
                    var publicKey = PublicKey.Import(SignatureAlgorithm.Ed25519, key.ReadString(), KeyBlobFormat.RawPublicKey);
                    return SignatureAlgorithm.Ed25519.Verify(publicKey, data, raw);
                }

            case "ecdsa-sha2-nistp256" or "ecdsa-sha2-nistp384" when algorithm == Type:
                {
                    var curveName = key.ReadText();
                    var point = key.ReadString();
                    var (curve, hash, size) = curveName == "nistp256"
                        ? (ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256, 32)
                        : (ECCurve.NamedCurves.nistP384, HashAlgorithmName.SHA384, 48);
                    if (point.Length != 1 + (2 * size) || point[0] != 4)
                    {
                        return false;
                    }

                    using var ecdsa = ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = point.Slice(1, size).ToArray(), Y = point.Slice(1 + size, size).ToArray() } });
                    var parts = new SshReader(raw);
                    var r = Unsigned(parts.ReadString(), size);
                    var s = Unsigned(parts.ReadString(), size);
                    return ecdsa.VerifyData(data, [.. r, .. s], hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                }

            case "ssh-rsa" when algorithm is "rsa-sha2-256" or "rsa-sha2-512":
                {
                    var exponent = key.ReadString();
                    var modulus = key.ReadString();
                    using var rsa = RSA.Create(new RSAParameters { Exponent = exponent.ToArray(), Modulus = modulus.TrimStart((byte)0).ToArray() });
                    return rsa.VerifyData(data, raw, algorithm == "rsa-sha2-512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                }

            default:
                return false; // includes ssh-rsa with SHA-1, which SSHSIG does not allow
        }
    }

    private static byte[] Unsigned(ReadOnlySpan<byte> mpint, int size)
    {
        var value = mpint.TrimStart((byte)0);
        if (value.Length > size)
        {
            throw new FormatException("ECDSA signature component too long");
        }

        var padded = new byte[size];
        value.CopyTo(padded.AsSpan(size - value.Length));
        return padded;
    }

    public bool Equals(SshPublicKey? other) => other is not null && Blob.AsSpan().SequenceEqual(other.Blob);

    public override bool Equals(object? obj) => Equals(obj as SshPublicKey);

    public override int GetHashCode() => Fingerprint.GetHashCode(StringComparison.Ordinal);
}

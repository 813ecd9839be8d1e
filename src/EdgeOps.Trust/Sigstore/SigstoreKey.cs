using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NSec.Cryptography;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// A public key as Sigstore uses them (ECDSA P-256/P-384/P-521, RSA, Ed25519), read from its
/// SubjectPublicKeyInfo. Reading a malformed key throws <see cref="FormatException"/>, a well-formed key of
/// another algorithm <see cref="NotSupportedException"/>. Verification never throws: a malformed signature
/// simply does not verify.
/// </summary>
public sealed class SigstoreKey
{
    private const string EcOid = "1.2.840.10045.2.1";
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string Ed25519Oid = "1.3.101.112";

    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;
    private readonly NSec.Cryptography.PublicKey? _ed25519;

    private SigstoreKey(byte[] spki, ECDsa? ecdsa, RSA? rsa, NSec.Cryptography.PublicKey? ed25519, string description)
    {
        SubjectPublicKeyInfo = spki;
        _ecdsa = ecdsa;
        _rsa = rsa;
        _ed25519 = ed25519;
        Description = description;
    }

    /// <summary>DER SubjectPublicKeyInfo; two keys are the same key when these are equal.</summary>
    public byte[] SubjectPublicKeyInfo { get; }

    /// <summary>Key type and size, e.g. "ECDSA P-256".</summary>
    public string Description { get; }

    public bool IsEd25519 => _ed25519 is not null;

    /// <summary>SHA256 fingerprint of the SubjectPublicKeyInfo, hex — the log ID form Sigstore uses.</summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(SubjectPublicKeyInfo));

    /// <summary>The hash an ECDSA key of this curve signs data with (SHA-256 for everything else).</summary>
    public HashAlgorithmName DataHash => _ecdsa?.KeySize switch
    {
        384 => HashAlgorithmName.SHA384,
        521 => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };

    public static SigstoreKey FromSubjectPublicKeyInfo(ReadOnlySpan<byte> spki)
    {
        var copy = spki.ToArray();
        string oid;
        ReadOnlyMemory<byte> keyBits;
        try
        {
            var reader = new AsnReader(copy, AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var algorithm = sequence.ReadSequence();
            oid = algorithm.ReadObjectIdentifier();
            if (oid == EcOid)
            {
                var curve = algorithm.PeekTag() == Asn1Tag.ObjectIdentifier ? algorithm.ReadObjectIdentifier() : "explicit parameters";
                if (curve is not ("1.2.840.10045.3.1.7" or "1.3.132.0.34" or "1.3.132.0.35"))
                {
                    throw new NotSupportedException($"unsupported elliptic curve {curve} (P-256, P-384 and P-521 are supported)");
                }
            }

            keyBits = sequence.ReadBitString(out _);
            sequence.ThrowIfNotEmpty();
        }
        catch (AsnContentException e)
        {
            throw new FormatException($"malformed public key: {e.Message}", e);
        }

        switch (oid)
        {
            case EcOid:
                var ecdsa = ECDsa.Create();
                ImportOrThrow(() => ecdsa.ImportSubjectPublicKeyInfo(copy, out _));
                if (ecdsa.KeySize is not (256 or 384 or 521))
                {
                    throw new FormatException($"unsupported ECDSA curve of {ecdsa.KeySize} bits");
                }

                return new SigstoreKey(copy, ecdsa, null, null, $"ECDSA P-{ecdsa.KeySize}");
            case RsaOid:
                var rsa = RSA.Create();
                ImportOrThrow(() => rsa.ImportSubjectPublicKeyInfo(copy, out _));
                if (rsa.KeySize < 2048)
                {
                    throw new FormatException($"RSA keys of {rsa.KeySize} bits are too short (2048 at least)");
                }

                return new SigstoreKey(copy, null, rsa, null, $"RSA {rsa.KeySize}");
            case Ed25519Oid:
                if (keyBits.Length != 32 ||
                    !NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, keyBits.Span, KeyBlobFormat.RawPublicKey, out var ed25519))
                {
                    throw new FormatException("malformed Ed25519 public key");
                }

                return new SigstoreKey(copy, null, null, ed25519, "Ed25519");
            default:
                throw new NotSupportedException($"unsupported public key algorithm {oid}");
        }
    }

    /// <summary>Reads a trusted root's key: SubjectPublicKeyInfo, or a bare PKCS#1 RSAPublicKey where keyDetails says PKCS1.</summary>
    public static SigstoreKey FromRawBytes(ReadOnlySpan<byte> raw, string? keyDetails)
    {
        if (keyDetails is null || !keyDetails.StartsWith("PKCS1_RSA", StringComparison.Ordinal))
        {
            return FromSubjectPublicKeyInfo(raw);
        }

        using var rsa = RSA.Create();
        var pkcs1 = raw.ToArray();
        ImportOrThrow(() => rsa.ImportRSAPublicKey(pkcs1, out _));
        return FromSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo());
    }

    public static SigstoreKey FromCertificate(X509Certificate2 certificate) =>
        FromSubjectPublicKeyInfo(certificate.PublicKey.ExportSubjectPublicKeyInfo());

    /// <summary>Reads a PEM "PUBLIC KEY" (or a certificate's key from a PEM "CERTIFICATE").</summary>
    public static SigstoreKey FromPem(string pem)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new FormatException("no PEM block found");
        }

        var label = pem[fields.Label];
        var der = Convert.FromBase64String(pem[fields.Base64Data]);
        return label switch
        {
            "PUBLIC KEY" => FromSubjectPublicKeyInfo(der),
            "CERTIFICATE" => FromCertificate(X509CertificateLoader.LoadCertificate(der)),
            _ => throw new FormatException($"expected a PEM PUBLIC KEY, found {label}"),
        };
    }

    /// <summary>Verifies a signature over <paramref name="data"/> (ECDSA signatures DER-encoded).</summary>
    public bool VerifyData(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try
        {
            if (_ecdsa is not null)
            {
                return _ecdsa.VerifyData(data, signature, DataHash, DSASignatureFormat.Rfc3279DerSequence);
            }

            if (_rsa is not null)
            {
                return _rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) ||
                    _rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
            }

            return SignatureAlgorithm.Ed25519.Verify(_ed25519!, data, signature);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>
    /// Verifies a signature over a prehashed message: Sigstore message signatures are made over the artifact's
    /// SHA-256 digest. Ed25519 cannot verify a digest and says no.
    /// </summary>
    public bool VerifyDigest(ReadOnlySpan<byte> digest, HashAlgorithmName hash, ReadOnlySpan<byte> signature)
    {
        try
        {
            if (_ecdsa is not null)
            {
                return _ecdsa.VerifyHash(digest, signature, DSASignatureFormat.Rfc3279DerSequence);
            }

            if (_rsa is not null)
            {
                return _rsa.VerifyHash(digest, signature, hash, RSASignaturePadding.Pkcs1) ||
                    _rsa.VerifyHash(digest, signature, hash, RSASignaturePadding.Pss);
            }

            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>Verifies an X.509 signature made with this key under the given signature algorithm OID.</summary>
    internal bool VerifyX509Signature(string algorithmOid, ReadOnlySpan<byte> signed, ReadOnlySpan<byte> signature)
    {
        try
        {
            return algorithmOid switch
            {
                "1.2.840.10045.4.3.2" => _ecdsa?.VerifyData(signed, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence) ?? false,
                "1.2.840.10045.4.3.3" => _ecdsa?.VerifyData(signed, signature, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence) ?? false,
                "1.2.840.10045.4.3.4" => _ecdsa?.VerifyData(signed, signature, HashAlgorithmName.SHA512, DSASignatureFormat.Rfc3279DerSequence) ?? false,
                "1.2.840.113549.1.1.11" => _rsa?.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) ?? false,
                "1.2.840.113549.1.1.12" => _rsa?.VerifyData(signed, signature, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1) ?? false,
                "1.2.840.113549.1.1.13" => _rsa?.VerifyData(signed, signature, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1) ?? false,
                Ed25519Oid => _ed25519 is not null && SignatureAlgorithm.Ed25519.Verify(_ed25519, signed, signature),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static void ImportOrThrow(Action import)
    {
        try
        {
            import();
        }
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException or ArgumentException)
        {
            throw new FormatException($"malformed public key: {e.Message}", e);
        }
    }
}

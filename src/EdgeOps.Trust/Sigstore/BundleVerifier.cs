using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// Verifies Sigstore bundles offline against a trusted root, following the Sigstore client specification:
/// the signature over the artifact (message signature or DSSE envelope), every transparency log entry (body,
/// inclusion proof and checkpoint, inclusion promise), RFC 3161 timestamps, and — for certificate-based
/// bundles — the certificate chain to a Fulcio CA at every verified signing time, its SCTs and its identity.
/// Pure: bytes in, verdict out; it never throws for bad input.
/// </summary>
public sealed class BundleVerifier(TrustedRoot root, TimeProvider? time = null)
{
    /// <summary>Logged times may run ahead of this verifier's clock by this much (clock skew).</summary>
    public static readonly TimeSpan AllowedClockSkew = TimeSpan.FromMinutes(5);

    private const int MaxEntries = 32;
    private const string CodeSigningUsage = "1.3.6.1.5.5.7.3.3";
    private const string IssuerV2Oid = "1.3.6.1.4.1.57264.1.8";
    private const string IssuerV1Oid = "1.3.6.1.4.1.57264.1.1";
    private const string PrecertificatePoisonOid = "1.3.6.1.4.1.11129.2.4.3";

    /// <summary>Critical extensions a Fulcio leaf may carry (RFC 5280 §4.2: any other critical one rejects it).</summary>
    private static readonly HashSet<string> KnownCriticalExtensions =
        ["2.5.29.15", "2.5.29.17", "2.5.29.19", "2.5.29.37", "2.5.29.14", "2.5.29.35", "2.5.29.32"];

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public TrustedRoot Root { get; } = root;

    public BundleVerdict Verify(ReadOnlySpan<byte> bundleJson, ArtifactInput artifact, VerificationPolicy policy)
    {
        Bundle bundle;
        try
        {
            bundle = Bundle.Parse(bundleJson);
        }
        catch (BundleException e)
        {
            return BundleVerdict.Reject(e.Failure, e.Message);
        }

        return Verify(bundle, artifact, policy);
    }

    internal BundleVerdict Verify(Bundle bundle, ArtifactInput artifact, VerificationPolicy policy)
    {
        var step = BundleFailure.VerificationMaterial;
        try
        {
            var material = Material(bundle, policy);

            step = BundleFailure.Signature;
            VerifyContent(bundle, material.Key, artifact);

            step = BundleFailure.TransparencyLogEntry;
            if (bundle.TransparencyLogEntries.Count == 0)
            {
                throw new BundleException(BundleFailure.TransparencyLogEntry, "the bundle has no transparency log entry");
            }

            if (bundle.TransparencyLogEntries.Count > MaxEntries || bundle.Rfc3161Timestamps.Count > MaxEntries)
            {
                throw new BundleException(BundleFailure.Malformed, $"the bundle has more than {MaxEntries} log entries or timestamps");
            }

            var times = new List<DateTimeOffset>();
            foreach (var entry in bundle.TransparencyLogEntries)
            {
                if (TransparencyLogVerifier.Verify(entry, bundle, material, artifact, Root) is { } integrated)
                {
                    times.Add(integrated);
                }
            }

            step = BundleFailure.Timestamp;
            for (var i = 0; i < bundle.Rfc3161Timestamps.Count; i++)
            {
                times.Add(Rfc3161Timestamps.Verify(bundle.Rfc3161Timestamps[i], bundle.SignatureBytes, Root, i));
            }

            step = BundleFailure.SigningTime;
            var now = _time.GetUtcNow();
            if (times.FirstOrDefault(t => t > now + AllowedClockSkew) is var future && future != default)
            {
                throw new BundleException(BundleFailure.SigningTime, $"a verified signing time {future:O} lies in the future");
            }

            string? identity = null;
            string? issuer = null;
            if (material.Certificate is { } leaf)
            {
                if (times.Count == 0)
                {
                    throw new BundleException(BundleFailure.SigningTime,
                        "no verified signing time: the bundle needs an inclusion promise or a trusted timestamp to prove when the certificate was used");
                }

                step = BundleFailure.CertificateChain;
                var issuingCertificate = VerifyChain(leaf, bundle, times);

                step = BundleFailure.CertificateTransparency;
                CertificateTransparency.VerifyEmbedded(leaf, issuingCertificate, Root);

                step = BundleFailure.Identity;
                (identity, issuer) = VerifyIdentity(leaf, policy);
            }

            return new BundleVerdict(BundleFailure.None, "verified", new VerifiedSignature(
                identity,
                issuer,
                material.Certificate is null ? material.Key.Fingerprint : null,
                [.. times.Order()],
                [.. bundle.TransparencyLogEntries.Select(e => e.LogIndex)]));
        }
        catch (BundleException e)
        {
            return BundleVerdict.Reject(e.Failure, e.Message);
        }
        catch (Exception e) when (e is FormatException or CryptographicException or AsnContentException or JsonException or
            ArgumentException or OverflowException or DecoderFallbackException or NotSupportedException)
        {
            return BundleVerdict.Reject(step, e.Message);
        }
    }

    private static SignedMaterial Material(Bundle bundle, VerificationPolicy policy)
    {
        if (policy.Key is { } key)
        {
            if (!bundle.IsKeyBased)
            {
                throw new BundleException(BundleFailure.VerificationMaterial, "a key was given but the bundle is signed with a certificate");
            }

            return new SignedMaterial(null, key);
        }

        if (bundle.Leaf is not { } leaf)
        {
            throw new BundleException(BundleFailure.VerificationMaterial, "the bundle is signed with a key; verify it with --key");
        }

        if (bundle.ExtraCertificates.FirstOrDefault(c => c.IsSelfIssued && c.IsSignedBy(c)) is { } rootInBundle)
        {
            throw new BundleException(BundleFailure.CertificateChain,
                $"the bundle's certificate chain contains a root certificate ('{rootInBundle}'); roots come only from the trusted root");
        }

        try
        {
            return new SignedMaterial(leaf, leaf.Key);
        }
        catch (Exception e) when (e is FormatException or NotSupportedException)
        {
            throw new BundleException(BundleFailure.VerificationMaterial, $"the signing certificate's key: {e.Message}");
        }
    }

    private static void VerifyContent(Bundle bundle, SigstoreKey key, ArtifactInput artifact)
    {
        if (bundle.MessageSignature is { } message)
        {
            // The digest is named by the bundle, else it is the key's own (SHA-384 for P-384, SHA-256 otherwise).
            var algorithm = message.DigestAlgorithm ?? (key.DataHash == HashAlgorithmName.SHA384 ? "SHA2_384" : key.DataHash == HashAlgorithmName.SHA512 ? "SHA2_512" : "SHA2_256");
            var hashName = ArtifactInput.HashName(algorithm)
                ?? throw new BundleException(BundleFailure.Artifact, $"the bundle's message digest uses an unsupported algorithm {algorithm}");
            var digest = artifact.Digest(algorithm);
            if (message.Digest is { } hint && !hint.AsSpan().SequenceEqual(digest))
            {
                throw new BundleException(BundleFailure.Artifact,
                    $"the bundle's message digest {Label(hashName)}:{Convert.ToHexStringLower(hint)} is not the artifact's {Label(hashName)}:{Convert.ToHexStringLower(digest)}");
            }

            bool valid;
            if (key.IsEd25519)
            {
                valid = artifact.Bytes is { } bytes
                    ? key.VerifyData(bytes, message.Signature)
                    : throw new BundleException(BundleFailure.Signature, "an Ed25519 message signature can only be checked against the artifact itself, not its digest");
            }
            else
            {
                valid = key.VerifyDigest(digest, hashName, message.Signature);
            }

            if (!valid)
            {
                throw new BundleException(BundleFailure.Signature, $"the signature does not verify over the artifact {Label(hashName)}:{Convert.ToHexStringLower(digest)} with the {key.Description} key");
            }

            return;
        }

        var envelope = bundle.Envelope!;
        if (!key.VerifyData(envelope.PreAuthenticationEncoding(), envelope.Signature))
        {
            throw new BundleException(BundleFailure.Signature, $"the DSSE envelope's signature does not verify with the {key.Description} key");
        }

        if (!envelope.InTotoSubjectDigests().Contains(artifact.Sha256Hex))
        {
            throw new BundleException(BundleFailure.Artifact, $"the in-toto statement names no subject with digest sha256:{artifact.Sha256Hex}");
        }
    }

    /// <summary>Links the leaf to a certificate authority of the trusted root valid at every signing time.</summary>
    private Certificate VerifyChain(Certificate leaf, Bundle bundle, List<DateTimeOffset> times)
    {
        if (leaf.IsCertificateAuthority)
        {
            throw new BundleException(BundleFailure.CertificateChain, "the signing certificate is a CA certificate");
        }

        if (!leaf.HasExtendedKeyUsage(CodeSigningUsage))
        {
            throw new BundleException(BundleFailure.CertificateChain, "the signing certificate is not for code signing (extended key usage)");
        }

        if (leaf.X509.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } usage && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            throw new BundleException(BundleFailure.CertificateChain, "the signing certificate's key usage does not allow digital signatures");
        }

        if (leaf.X509.Extensions.FirstOrDefault(e => e.Critical && !KnownCriticalExtensions.Contains(e.Oid?.Value ?? string.Empty)) is { } unknown)
        {
            throw new BundleException(BundleFailure.CertificateChain,
                unknown.Oid?.Value == PrecertificatePoisonOid
                    ? "the signing certificate is a CT precertificate (poison extension), not an issued certificate"
                    : $"the signing certificate has an unrecognised critical extension {unknown.Oid?.Value}");
        }

        foreach (var time in times)
        {
            if (!leaf.IsValidAt(time))
            {
                throw new BundleException(BundleFailure.SigningTime,
                    $"signed at {time:O}, outside the certificate's validity {leaf.NotBefore:O} … {leaf.NotAfter:O}");
            }
        }

        var reasons = new List<string>();
        foreach (var authority in Root.CertificateAuthorities)
        {
            if (!leaf.IsSignedBy(authority.Chain[0]))
            {
                continue;
            }

            if (times.FirstOrDefault(t => !authority.ValidFor.Contains(t)) is var outside && outside != default)
            {
                reasons.Add($"{authority.Uri} issued it but is trusted for {authority.ValidFor}, not at {outside:O}");
                continue;
            }

            if (authority.Chain.SelectMany(c => times.Where(t => !c.IsValidAt(t)).Select(t => (c, t))).FirstOrDefault() is ({ } expired, var at))
            {
                reasons.Add($"'{expired}' is valid {expired.NotBefore:O} … {expired.NotAfter:O}, not at {at:O}");
                continue;
            }

            if (!authority.Chain[0].IsCertificateAuthority)
            {
                reasons.Add($"'{authority.Chain[0]}' is not a CA certificate");
                continue;
            }

            return authority.Chain[0];
        }

        throw new BundleException(BundleFailure.CertificateChain, reasons.Count == 0
            ? $"the signing certificate (issuer '{leaf.X509.Issuer}') was not issued by a certificate authority of the trusted root"
            : "the signing certificate does not chain to a trusted certificate authority at the signing time: " + string.Join("; ", reasons));
    }

    private static (string Identity, string Issuer) VerifyIdentity(Certificate leaf, VerificationPolicy policy)
    {
        var issuer = IssuerOf(leaf)
            ?? throw new BundleException(BundleFailure.Identity, "the certificate names no OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8)");
        if (!policy.MatchesIssuer(issuer))
        {
            throw new BundleException(BundleFailure.Identity, $"the certificate's OIDC issuer is {issuer}, expected {policy.Issuer ?? "a match of the issuer pattern"}");
        }

        var names = SubjectAlternativeNames(leaf);
        var match = names.FirstOrDefault(policy.MatchesIdentity);
        return match is not null
            ? (match, issuer)
            : throw new BundleException(BundleFailure.Identity,
                $"the certificate's identity is {(names.Count == 0 ? "empty" : string.Join(", ", names))}, expected {policy.Identity ?? "a match of the identity pattern"}");
    }

    internal static string? IssuerOf(Certificate leaf)
    {
        if (leaf.Extension(IssuerV2Oid) is { } v2)
        {
            return new AsnReader(v2.RawData, AsnEncodingRules.DER).ReadCharacterString(UniversalTagNumber.UTF8String);
        }

        return leaf.Extension(IssuerV1Oid) is { } v1 ? Encoding.UTF8.GetString(v1.RawData) : null;
    }

    /// <summary>The URI, e-mail and DNS names of the subject alternative name extension.</summary>
    internal static List<string> SubjectAlternativeNames(Certificate leaf)
    {
        var names = new List<string>();
        if (leaf.Extension("2.5.29.17") is not { } san)
        {
            return names;
        }

        var reader = new AsnReader(san.RawData, AsnEncodingRules.DER).ReadSequence();
        while (reader.HasData)
        {
            var tag = reader.PeekTag();
            if (tag.TagClass == TagClass.ContextSpecific && !tag.IsConstructed && tag.TagValue is 1 or 2 or 6)
            {
                names.Add(Encoding.UTF8.GetString(reader.ReadOctetString(tag)));
            }
            else if (tag.TagClass == TagClass.ContextSpecific && tag.IsConstructed && tag.TagValue == 0)
            {
                // otherName: Fulcio writes usernames as an OID-tagged UTF8String.
                var other = reader.ReadSequence(tag);
                other.ReadObjectIdentifier();
                var value = other.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
                names.Add(value.ReadCharacterString(UniversalTagNumber.UTF8String));
            }
            else
            {
                reader.ReadEncodedValue();
            }
        }

        return names;
    }

    private static string Label(HashAlgorithmName name) => name.Name!.ToLowerInvariant();
}

using System.Text.Json;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// A Sigstore bundle (v0.1, v0.2, v0.3; both media type spellings), read from its protobuf-JSON form. Parsing
/// only checks shape; <see cref="BundleVerifier"/> decides whether what it says is true.
/// </summary>
public sealed class Bundle
{
    /// <summary>Bundles larger than this are refused before parsing.</summary>
    public const int MaxSize = 16 * 1024 * 1024;

    private const int MaxChainLength = 10;

    private Bundle(string mediaType, int minorVersion)
    {
        MediaType = mediaType;
        MinorVersion = minorVersion;
    }

    public string MediaType { get; }

    /// <summary>0.1 → 1, 0.2 → 2, 0.3 → 3.</summary>
    public int MinorVersion { get; }

    /// <summary>The leaf certificate, for certificate-based bundles.</summary>
    internal Certificate? Leaf { get; private set; }

    /// <summary>Certificates the bundle carried after the leaf (v0.1/v0.2 chains); never trusted, only checked.</summary>
    internal IReadOnlyList<Certificate> ExtraCertificates { get; private set; } = [];

    /// <summary>True when the bundle names a public key (key-based signing) instead of a certificate.</summary>
    public bool IsKeyBased { get; private set; }

    internal IReadOnlyList<TransparencyLogEntry> TransparencyLogEntries { get; private set; } = [];

    internal IReadOnlyList<byte[]> Rfc3161Timestamps { get; private set; } = [];

    internal MessageSignatureContent? MessageSignature { get; private set; }

    internal DsseEnvelope? Envelope { get; private set; }

    /// <summary>The bytes the signature covers and that timestamps are made over: the message or envelope signature.</summary>
    internal byte[] SignatureBytes => MessageSignature?.Signature ?? Envelope!.Signature;

    internal static Bundle Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxSize)
        {
            throw new BundleException(BundleFailure.Malformed, $"bundle is larger than {MaxSize / (1024 * 1024)} MiB");
        }

        using var document = ProtoJson.Parse(json.ToArray(), BundleFailure.Malformed, "bundle");
        return Read(document.RootElement);
    }

    private static Bundle Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new BundleException(BundleFailure.Malformed, "a bundle must be a JSON object");
        }

        var mediaType = ProtoJson.String(root, "mediaType", "$");
        var bundle = new Bundle(mediaType, MinorVersionOf(mediaType));

        var material = ProtoJson.Object(root, "verificationMaterial", "$");
        bundle.ReadMaterial(material);
        bundle.TransparencyLogEntries = [.. ProtoJson.Array(material, "tlogEntries", "$.verificationMaterial")
            .Select((entry, i) => TransparencyLogEntry.Read(entry, $"$.verificationMaterial.tlogEntries[{i}]"))];

        if (ProtoJson.OptionalObject(material, "timestampVerificationData", "$.verificationMaterial") is { } timestamps)
        {
            bundle.Rfc3161Timestamps = [.. ProtoJson.Array(timestamps, "rfc3161Timestamps", "$.verificationMaterial.timestampVerificationData")
                .Select((t, i) => ProtoJson.Bytes(t, "signedTimestamp", $"$.verificationMaterial.timestampVerificationData.rfc3161Timestamps[{i}]"))];
        }

        var message = ProtoJson.OptionalObject(root, "messageSignature", "$");
        var envelope = ProtoJson.OptionalObject(root, "dsseEnvelope", "$");
        if ((message is null) == (envelope is null))
        {
            throw new BundleException(BundleFailure.Malformed, "a bundle holds exactly one of messageSignature and dsseEnvelope");
        }

        if (message is { } m)
        {
            var digest = ProtoJson.OptionalObject(m, "messageDigest", "$.messageSignature");
            bundle.MessageSignature = new MessageSignatureContent(
                ProtoJson.Bytes(m, "signature", "$.messageSignature"),
                digest is { } d ? ProtoJson.OptionalString(d, "algorithm", "$.messageSignature.messageDigest") : null,
                digest is { } d2 ? ProtoJson.Bytes(d2, "digest", "$.messageSignature.messageDigest") : null);
        }
        else
        {
            bundle.Envelope = DsseEnvelope.Read(envelope!.Value, "$.dsseEnvelope");
        }

        return bundle;
    }

    private static int MinorVersionOf(string mediaType)
    {
        const string Legacy = "application/vnd.dev.sigstore.bundle+json;version=";
        var version = mediaType switch
        {
            _ when mediaType.StartsWith(Legacy, StringComparison.Ordinal) => mediaType[Legacy.Length..],
            _ when mediaType.StartsWith("application/vnd.dev.sigstore.bundle.v", StringComparison.Ordinal) && mediaType.EndsWith("+json", StringComparison.Ordinal) =>
                mediaType["application/vnd.dev.sigstore.bundle.v".Length..^"+json".Length],
            _ => throw new BundleException(BundleFailure.UnsupportedVersion, $"not a Sigstore bundle media type: {mediaType}"),
        };

        return version switch
        {
            "0.1" => 1,
            "0.2" => 2,
            "0.3" => 3,
            _ => throw new BundleException(BundleFailure.UnsupportedVersion, $"unsupported bundle version {version} (0.1, 0.2 and 0.3 are supported)"),
        };
    }

    private void ReadMaterial(JsonElement material)
    {
        const string Path = "$.verificationMaterial";
        var chain = ProtoJson.OptionalObject(material, "x509CertificateChain", Path, BundleFailure.VerificationMaterial);
        var single = ProtoJson.OptionalObject(material, "certificate", Path, BundleFailure.VerificationMaterial);
        var key = ProtoJson.OptionalObject(material, "publicKey", Path, BundleFailure.VerificationMaterial);
        if (new[] { chain, single, key }.Count(m => m is not null) != 1)
        {
            throw new BundleException(BundleFailure.VerificationMaterial, "verification material must hold exactly one of x509CertificateChain, certificate and publicKey");
        }

        if (key is not null)
        {
            IsKeyBased = true;
            return;
        }

        List<byte[]> raw;
        if (single is { } s)
        {
            raw = [ProtoJson.Bytes(s, "rawBytes", Path + ".certificate", BundleFailure.VerificationMaterial)];
        }
        else
        {
            raw = [.. ProtoJson.Array(chain!.Value, "certificates", Path + ".x509CertificateChain", BundleFailure.VerificationMaterial)
                .Select((c, i) => ProtoJson.Bytes(c, "rawBytes", $"{Path}.x509CertificateChain.certificates[{i}]", BundleFailure.VerificationMaterial))];
            if (raw.Count == 0)
            {
                throw new BundleException(BundleFailure.VerificationMaterial, "the certificate chain is empty");
            }

            if (raw.Count > MaxChainLength)
            {
                throw new BundleException(BundleFailure.VerificationMaterial, $"the certificate chain has {raw.Count} certificates; at most {MaxChainLength}");
            }
        }

        var certificates = raw.Select((der, i) =>
        {
            try
            {
                return Certificate.Parse(der);
            }
            catch (FormatException e)
            {
                throw new BundleException(BundleFailure.VerificationMaterial, $"certificate {i}: {e.Message}");
            }
        }).ToList();
        Leaf = certificates[0];
        ExtraCertificates = certificates.Skip(1).ToList();
    }
}

/// <summary>A signature over an artifact, with the artifact's digest as an (unauthenticated) hint.</summary>
internal sealed record MessageSignatureContent(byte[] Signature, string? DigestAlgorithm, byte[]? Digest);

/// <summary>One transparency log entry of a bundle.</summary>
internal sealed record TransparencyLogEntry(
    string Path,
    long LogIndex,
    byte[] LogId,
    string Kind,
    string Version,
    long IntegratedTime,
    byte[]? SignedEntryTimestamp,
    InclusionProof? Proof,
    byte[] CanonicalizedBody)
{
    public static TransparencyLogEntry Read(JsonElement entry, string path)
    {
        var kindVersion = ProtoJson.Object(entry, "kindVersion", path, BundleFailure.TransparencyLogEntry);
        var promise = ProtoJson.OptionalObject(entry, "inclusionPromise", path, BundleFailure.InclusionPromise);
        var proof = ProtoJson.OptionalObject(entry, "inclusionProof", path, BundleFailure.InclusionProof);
        return new TransparencyLogEntry(
            path,
            ProtoJson.Int64(entry, "logIndex", path, BundleFailure.TransparencyLogEntry),
            ProtoJson.Bytes(ProtoJson.Object(entry, "logId", path, BundleFailure.TransparencyLogEntry), "keyId", path + ".logId", BundleFailure.TransparencyLogEntry),
            ProtoJson.String(kindVersion, "kind", path + ".kindVersion", BundleFailure.TransparencyLogEntry),
            ProtoJson.String(kindVersion, "version", path + ".kindVersion", BundleFailure.TransparencyLogEntry),
            ProtoJson.Int64(entry, "integratedTime", path, BundleFailure.TransparencyLogEntry),
            promise is { } p ? ProtoJson.Bytes(p, "signedEntryTimestamp", path + ".inclusionPromise", BundleFailure.InclusionPromise) : null,
            proof is { } q ? InclusionProof.Read(q, path + ".inclusionProof") : null,
            ProtoJson.Bytes(entry, "canonicalizedBody", path, BundleFailure.TransparencyLogEntry));
    }
}

/// <summary>An RFC 6962 inclusion proof with the checkpoint that signs its root.</summary>
internal sealed record InclusionProof(long LogIndex, byte[] RootHash, long TreeSize, IReadOnlyList<byte[]> Hashes, string? Checkpoint)
{
    /// <summary>A proof for a tree of 2^63 leaves has 63 hashes; more is not a proof.</summary>
    private const int MaxHashes = 64;

    public static InclusionProof Read(JsonElement proof, string path)
    {
        const BundleFailure Failure = BundleFailure.InclusionProof;
        var hashes = ProtoJson.Array(proof, "hashes", path, Failure);
        if (hashes.Count > MaxHashes)
        {
            throw new BundleException(Failure, $"{path}.hashes has {hashes.Count} entries; at most {MaxHashes}");
        }

        var checkpoint = ProtoJson.OptionalObject(proof, "checkpoint", path, BundleFailure.Checkpoint);
        return new InclusionProof(
            ProtoJson.Int64(proof, "logIndex", path, Failure),
            ProtoJson.Bytes(proof, "rootHash", path, Failure),
            ProtoJson.Int64(proof, "treeSize", path, Failure),
            [.. hashes.Select((h, i) => h.ValueKind == JsonValueKind.String
                ? ProtoJson.Base64(h.GetString()!, $"{path}.hashes[{i}]", Failure)
                : throw new BundleException(Failure, $"{path}.hashes[{i}] must be a string"))],
            checkpoint is { } c ? ProtoJson.OptionalString(c, "envelope", path + ".checkpoint", BundleFailure.Checkpoint) : null);
    }
}

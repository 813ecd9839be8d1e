namespace EdgeOps.Trust.Sigstore;

/// <summary>Why a bundle was rejected: the step of the Sigstore verification rules that failed.</summary>
public enum BundleFailure
{
    None,

    /// <summary>The bundle is not valid JSON or misses a required field.</summary>
    Malformed,

    /// <summary>The media type names a bundle version this verifier does not know.</summary>
    UnsupportedVersion,

    /// <summary>The verification material is empty or not usable (no certificate, bad key).</summary>
    VerificationMaterial,

    /// <summary>The signing certificate does not chain to a certificate authority of the trusted root at the signing time.</summary>
    CertificateChain,

    /// <summary>No valid signed certificate timestamp from a trusted CT log.</summary>
    CertificateTransparency,

    /// <summary>The certificate's identity or OIDC issuer is not the expected one.</summary>
    Identity,

    /// <summary>The signature does not verify under the certificate or key.</summary>
    Signature,

    /// <summary>The artifact (or its digest) is not what was signed.</summary>
    Artifact,

    /// <summary>A transparency log entry is unknown or does not describe this bundle.</summary>
    TransparencyLogEntry,

    /// <summary>The signed entry timestamp (inclusion promise) is missing or invalid.</summary>
    InclusionPromise,

    /// <summary>The Merkle inclusion proof is missing or does not lead to the root hash.</summary>
    InclusionProof,

    /// <summary>The signed checkpoint is malformed, unsigned by the log, or for another tree.</summary>
    Checkpoint,

    /// <summary>An RFC 3161 timestamp is malformed, untrusted or not over this signature.</summary>
    Timestamp,

    /// <summary>No trustworthy signing time, or one outside the certificate's validity.</summary>
    SigningTime,
}

public static class BundleFailureNames
{
    /// <summary>The failure as users and scripts see it: signature, certificate-chain, inclusion-proof, …</summary>
    public static string Name(this BundleFailure failure) =>
        string.Concat(failure.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>The outcome of verifying one bundle: verified, or the failed step and its reason.</summary>
public sealed record BundleVerdict(BundleFailure Failure, string Reason, VerifiedSignature? Signature)
{
    public bool Verified => Failure == BundleFailure.None;

    public static BundleVerdict Reject(BundleFailure failure, string reason) => new(failure, reason, null);
}

/// <summary>What a verified bundle proves: who signed (or with which key), when, and where it was logged.</summary>
public sealed record VerifiedSignature(
    string? Identity,
    string? Issuer,
    string? KeyFingerprint,
    IReadOnlyList<DateTimeOffset> SigningTimes,
    IReadOnlyList<long> LogIndexes);

/// <summary>A rule of the verification failed; caught at the top and turned into a <see cref="BundleVerdict"/>.</summary>
internal sealed class BundleException(BundleFailure failure, string message) : Exception(message)
{
    public BundleFailure Failure { get; } = failure;
}

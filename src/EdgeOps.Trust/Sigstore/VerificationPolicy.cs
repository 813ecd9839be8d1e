using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// Who must have signed: a certificate identity (SAN) and OIDC issuer, each matched exactly or by a regular
/// expression over the whole value; or, for key-based bundles, one public key.
/// </summary>
public sealed class VerificationPolicy
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    private readonly Regex? _identityPattern;
    private readonly Regex? _issuerPattern;

    private VerificationPolicy(string? identity, Regex? identityPattern, string? issuer, Regex? issuerPattern, SigstoreKey? key)
    {
        Identity = identity;
        _identityPattern = identityPattern;
        Issuer = issuer;
        _issuerPattern = issuerPattern;
        Key = key;
    }

    public string? Identity { get; }

    public string? Issuer { get; }

    /// <summary>The key of a key-based policy; null for identity policies.</summary>
    public SigstoreKey? Key { get; }

    public static VerificationPolicy ForKey(SigstoreKey key) => new(null, null, null, null, key);

    /// <summary>Exact identity and issuer, as <c>--certificate-identity</c> and <c>--certificate-oidc-issuer</c> give them.</summary>
    public static VerificationPolicy ForIdentity(string identity, string issuer) => new(identity, null, issuer, null, null);

    /// <summary>
    /// Identity and issuer, each exact or a regular expression (anchored: it must match the whole value);
    /// a pattern that does not compile throws <see cref="ArgumentException"/>.
    /// </summary>
    public static VerificationPolicy ForIdentity(string? identity, string? identityRegex, string? issuer, string? issuerRegex)
    {
        if ((identity is null) == (identityRegex is null) || (issuer is null) == (issuerRegex is null))
        {
            throw new ArgumentException("give exactly one of identity and identity pattern, and one of issuer and issuer pattern");
        }

        return new VerificationPolicy(identity, Anchored(identityRegex), issuer, Anchored(issuerRegex), null);
    }

    internal bool MatchesIdentity(string value) => Matches(Identity, _identityPattern, value);

    internal bool MatchesIssuer(string value) => Matches(Issuer, _issuerPattern, value);

    public override string ToString() => Key is not null
        ? $"key {Key.Description} sha256:{Key.Fingerprint}"
        : $"identity {Identity ?? "~" + _identityPattern} issued by {Issuer ?? "~" + _issuerPattern}";

    private static bool Matches(string? exact, Regex? pattern, string value)
    {
        if (exact is not null)
        {
            return string.Equals(exact, value, StringComparison.Ordinal);
        }

        try
        {
            return pattern!.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static Regex? Anchored(string? pattern) =>
        pattern is null ? null : new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant, RegexTimeout);
}

/// <summary>The artifact a bundle is checked against: its bytes, or only its SHA-256 digest.</summary>
public sealed class ArtifactInput
{
    private ArtifactInput(byte[]? bytes, byte[] sha256)
    {
        Bytes = bytes;
        Sha256 = sha256;
    }

    /// <summary>The artifact itself; null when only its digest is known.</summary>
    public byte[]? Bytes { get; }

    public byte[] Sha256 { get; }

    public string Sha256Hex => Convert.ToHexStringLower(Sha256);

    public static ArtifactInput FromBytes(byte[] bytes) => new(bytes, SHA256.HashData(bytes));

    /// <summary>
    /// The artifact's digest under a Sigstore hash name (SHA2_256, SHA2_384, SHA2_512, or Rekor's sha256 …);
    /// other than SHA-256 it needs the artifact's bytes.
    /// </summary>
    internal byte[] Digest(string algorithm) => HashName(algorithm) switch
    {
        var h when h == HashAlgorithmName.SHA256 => Sha256,
        var h when h == HashAlgorithmName.SHA384 => Bytes is { } bytes ? SHA384.HashData(bytes) : throw OnlySha256(algorithm),
        var h when h == HashAlgorithmName.SHA512 => Bytes is { } bytes ? SHA512.HashData(bytes) : throw OnlySha256(algorithm),
        _ => throw new BundleException(BundleFailure.Artifact, $"unsupported digest algorithm {algorithm}"),
    };

    internal static HashAlgorithmName? HashName(string algorithm) => algorithm switch
    {
        "SHA2_256" or "sha256" => HashAlgorithmName.SHA256,
        "SHA2_384" or "sha384" => HashAlgorithmName.SHA384,
        "SHA2_512" or "sha512" => HashAlgorithmName.SHA512,
        _ => null,
    };

    private static BundleException OnlySha256(string algorithm) =>
        new(BundleFailure.Artifact, $"the bundle signs a {algorithm} digest, which only the artifact itself can give; a sha256 digest was given");

    /// <summary>Reads "sha256:&lt;64 hex&gt;"; anything else throws <see cref="FormatException"/>.</summary>
    public static ArtifactInput FromDigest(string digest)
    {
        const string Prefix = "sha256:";
        if (!digest.StartsWith(Prefix, StringComparison.Ordinal) || digest.Length != Prefix.Length + 64 ||
            !digest[Prefix.Length..].All(char.IsAsciiHexDigit))
        {
            throw new FormatException($"'{digest}' is not a digest of the form sha256:<64 hex digits>");
        }

        return new ArtifactInput(null, Convert.FromHexString(digest.AsSpan(Prefix.Length)));
    }

    public static bool LooksLikeDigest(string value) => value.StartsWith("sha256:", StringComparison.Ordinal);
}

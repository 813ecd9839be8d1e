using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// An X.509 certificate split into the parts verification needs: the signed TBS, the signature algorithm and
/// value, validity, CA flag and key. Chains are checked with these rather than the platform chain builder so
/// that the answer is the same on every OS, never fetches anything, and is judged at the signing time.
/// </summary>
internal sealed class Certificate
{
    private SigstoreKey? _key;

    private Certificate(X509Certificate2 x509, byte[] tbs, string signatureAlgorithm, byte[] signature)
    {
        X509 = x509;
        Tbs = tbs;
        SignatureAlgorithm = signatureAlgorithm;
        Signature = signature;
    }

    public X509Certificate2 X509 { get; }

    public byte[] Raw => X509.RawData;

    public byte[] Tbs { get; }

    public string SignatureAlgorithm { get; }

    public byte[] Signature { get; }

    public DateTimeOffset NotBefore => new(X509.NotBefore.ToUniversalTime());

    public DateTimeOffset NotAfter => new(X509.NotAfter.ToUniversalTime());

    public SigstoreKey Key => _key ??= SigstoreKey.FromCertificate(X509);

    public bool IsCertificateAuthority =>
        X509.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault()?.CertificateAuthority ?? false;

    public bool IsSelfIssued => X509.SubjectName.RawData.AsSpan().SequenceEqual(X509.IssuerName.RawData);

    public static Certificate Parse(byte[] der)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var certificate = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var tbs = certificate.ReadEncodedValue().ToArray();
            var algorithm = certificate.ReadSequence();
            var oid = algorithm.ReadObjectIdentifier();
            var signature = certificate.ReadBitString(out _);
            certificate.ThrowIfNotEmpty();
            return new Certificate(X509CertificateLoader.LoadCertificate(der), tbs, oid, signature);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            throw new FormatException($"malformed certificate: {e.Message}", e);
        }
    }

    /// <summary>True when this certificate's signature verifies under <paramref name="issuer"/>'s key.</summary>
    public bool IsSignedBy(Certificate issuer) =>
        X509.IssuerName.RawData.AsSpan().SequenceEqual(issuer.X509.SubjectName.RawData) &&
        issuer.Key.VerifyX509Signature(SignatureAlgorithm, Tbs, Signature);

    /// <summary>Validity with inclusive ends, as RFC 5280 defines it.</summary>
    public bool IsValidAt(DateTimeOffset time) => NotBefore <= time && time <= NotAfter;

    public bool HasExtendedKeyUsage(string oid) =>
        X509.Extensions.OfType<X509EnhancedKeyUsageExtension>().Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(u => u.Value == oid));

    public X509Extension? Extension(string oid) => X509.Extensions.FirstOrDefault(e => e.Oid?.Value == oid);

    public override string ToString() => X509.Subject.Length > 0 ? X509.Subject : $"certificate {X509.SerialNumber}";
}

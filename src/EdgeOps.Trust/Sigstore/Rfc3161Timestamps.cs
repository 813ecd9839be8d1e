using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// RFC 3161 timestamps over a bundle's signature. A timestamp counts only when its signer is a timestamp
/// authority of the trusted root, valid (with its chain) at the time it states: a token that merely embeds
/// some certificate and verifies under it is not trusted.
/// </summary>
internal static class Rfc3161Timestamps
{
    private const string TimeStampingUsage = "1.3.6.1.5.5.7.3.8";
    private const string TstInfoContentType = "1.2.840.113549.1.9.16.1.4";

    public static DateTimeOffset Verify(byte[] encoded, byte[] signature, TrustedRoot root, int index)
    {
        var what = $"timestamp {index}";
        var (cms, info) = Decode(encoded, what);
        var time = info.Timestamp;

        var hashName = HashName(info.HashAlgorithmId)
            ?? throw new BundleException(BundleFailure.Timestamp, $"{what} uses an unsupported hash algorithm {info.HashAlgorithmId.Value}");
        if (!info.GetMessageHash().Span.SequenceEqual(Hash(hashName, signature)))
        {
            throw new BundleException(BundleFailure.Timestamp, $"{what} is not over this bundle's signature (message imprint differs)");
        }

        if (cms.SignerInfos.Count != 1)
        {
            throw new BundleException(BundleFailure.Timestamp, $"{what} must have exactly one signer, has {cms.SignerInfos.Count}");
        }

        var signer = cms.SignerInfos[0];
        var reasons = new List<string>();
        foreach (var authority in root.TimestampAuthorities)
        {
            var trusted = authority.Chain[0];
            try
            {
                // The signer is looked up by its identifier among the embedded certificates and the trusted one;
                // whichever it is, it must be the trusted root's certificate.
                signer.CheckSignature([trusted.X509], verifySignatureOnly: true);
            }
            catch (CryptographicException)
            {
                continue;
            }

            // Certificate is set when the signer was found among the embedded certificates, null when it was
            // the trusted one passed in.
            if (signer.Certificate is { } embedded && !embedded.RawData.AsSpan().SequenceEqual(trusted.Raw))
            {
                reasons.Add($"signed by '{embedded.Subject}', which the trusted root does not name");
                continue;
            }

            if (!authority.ValidFor.Contains(time))
            {
                reasons.Add($"{authority.Uri} is trusted for {authority.ValidFor}, not at {time:O}");
                continue;
            }

            if (authority.Chain.FirstOrDefault(c => !c.IsValidAt(time)) is { } expired)
            {
                reasons.Add($"'{expired}' is valid {expired.NotBefore:O} … {expired.NotAfter:O}, not at {time:O}");
                continue;
            }

            if (!trusted.HasExtendedKeyUsage(TimeStampingUsage))
            {
                reasons.Add($"'{trusted}' is not a timestamping certificate");
                continue;
            }

            return time;
        }

        throw new BundleException(BundleFailure.Timestamp,
            reasons.Count == 0
                ? $"{what} is not signed by a timestamp authority of the trusted root"
                : $"{what} is not trusted: {string.Join("; ", reasons.Distinct())}");
    }

    /// <summary>Accepts a TimeStampResp (status + token) or a bare timestamp token (CMS SignedData over TSTInfo).</summary>
    private static (SignedCms Cms, Rfc3161TimestampTokenInfo Info) Decode(byte[] encoded, string what)
    {
        try
        {
            var tokenBytes = (ReadOnlyMemory<byte>)encoded;
            var outer = new AsnReader(encoded, AsnEncodingRules.BER).ReadSequence();
            if (outer.PeekTag() == Asn1Tag.Sequence)
            {
                var status = outer.ReadSequence();
                if (!status.TryReadInt32(out var granted) || granted is not (0 or 1))
                {
                    throw new BundleException(BundleFailure.Timestamp, $"{what} is a refused timestamp response");
                }

                tokenBytes = outer.ReadEncodedValue();
            }

            var cms = new SignedCms();
            cms.Decode(tokenBytes.Span);
            if (cms.ContentInfo.ContentType.Value != TstInfoContentType ||
                !Rfc3161TimestampTokenInfo.TryDecode(cms.ContentInfo.Content, out var info, out var consumed) ||
                consumed != cms.ContentInfo.Content.Length)
            {
                throw new BundleException(BundleFailure.Timestamp, $"{what} is not an RFC 3161 timestamp token");
            }

            return (cms, info);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            throw new BundleException(BundleFailure.Timestamp, $"{what} is malformed: {e.Message}");
        }
    }

    private static HashAlgorithmName? HashName(Oid oid) => oid.Value switch
    {
        "2.16.840.1.101.3.4.2.1" => HashAlgorithmName.SHA256,
        "2.16.840.1.101.3.4.2.2" => HashAlgorithmName.SHA384,
        "2.16.840.1.101.3.4.2.3" => HashAlgorithmName.SHA512,
        _ => null,
    };

    private static byte[] Hash(HashAlgorithmName name, byte[] data) =>
        name == HashAlgorithmName.SHA384 ? SHA384.HashData(data) :
        name == HashAlgorithmName.SHA512 ? SHA512.HashData(data) : SHA256.HashData(data);
}

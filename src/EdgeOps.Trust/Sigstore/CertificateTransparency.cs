using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// Verification of the signed certificate timestamps (RFC 6962) embedded in a Fulcio certificate: each SCT
/// signs the precertificate — the certificate's TBS without the SCT list extension — with the issuer's key hash.
/// </summary>
internal static class CertificateTransparency
{
    public const string SctListOid = "1.3.6.1.4.1.11129.2.4.2";

    /// <summary>Returns the time of the first SCT that verifies under a trusted CT log; throws when none does.</summary>
    public static DateTimeOffset VerifyEmbedded(Certificate leaf, Certificate issuer, TrustedRoot root)
    {
        var extension = leaf.Extension(SctListOid)
            ?? throw new BundleException(BundleFailure.CertificateTransparency, "the certificate carries no signed certificate timestamps");

        List<Sct> scts;
        byte[] precertificate;
        try
        {
            scts = ParseList(new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadOctetString());
            precertificate = PrecertificateTbs(leaf.Tbs);
        }
        catch (Exception e) when (e is AsnContentException or FormatException or ArgumentOutOfRangeException)
        {
            throw new BundleException(BundleFailure.CertificateTransparency, $"the certificate's SCT list is malformed: {e.Message}");
        }

        var issuerKeyHash = SHA256.HashData(issuer.X509.PublicKey.ExportSubjectPublicKeyInfo());
        var reasons = new List<string>();
        foreach (var sct in scts)
        {
            var log = root.FindCertificateTransparencyLog(sct.LogId);
            if (log is null)
            {
                reasons.Add($"SCT from unknown CT log {Convert.ToBase64String(sct.LogId)}");
                continue;
            }

            var time = DateTimeOffset.FromUnixTimeMilliseconds(sct.Timestamp);
            if (!log.ValidFor.Contains(time))
            {
                reasons.Add($"SCT from {log.BaseUrl} at {time:O}, outside the log key's validity {log.ValidFor}");
                continue;
            }

            if (log.Key.VerifyData(SignedData(sct, issuerKeyHash, precertificate), sct.Signature))
            {
                return time;
            }

            reasons.Add($"SCT signature from {log.BaseUrl} does not verify");
        }

        throw new BundleException(BundleFailure.CertificateTransparency,
            scts.Count == 0 ? "the certificate's SCT list is empty" : "no valid SCT from a trusted CT log: " + string.Join("; ", reasons));
    }

    /// <summary>The TBS certificate with the SCT list extension removed (the precertificate's TBS).</summary>
    internal static byte[] PrecertificateTbs(byte[] tbs)
    {
        var reader = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        var extensionsTag = new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true);
        using (writer.PushSequence())
        {
            while (reader.HasData)
            {
                if (reader.PeekTag() != extensionsTag)
                {
                    writer.WriteEncodedValue(reader.ReadEncodedValue().Span);
                    continue;
                }

                var explicitExtensions = reader.ReadSequence(extensionsTag);
                var extensions = explicitExtensions.ReadSequence();
                explicitExtensions.ThrowIfNotEmpty();
                using (writer.PushSequence(extensionsTag))
                using (writer.PushSequence())
                {
                    while (extensions.HasData)
                    {
                        var extension = extensions.ReadEncodedValue();
                        var oid = new AsnReader(extension, AsnEncodingRules.DER).ReadSequence().ReadObjectIdentifier();
                        if (oid != SctListOid)
                        {
                            writer.WriteEncodedValue(extension.Span);
                        }
                    }
                }
            }
        }

        return writer.Encode();
    }

    private static byte[] SignedData(Sct sct, byte[] issuerKeyHash, byte[] precertificate)
    {
        var data = new byte[1 + 1 + 8 + 2 + 32 + 3 + precertificate.Length + 2 + sct.Extensions.Length];
        var span = data.AsSpan();
        span[0] = 0; // v1
        span[1] = 0; // certificate_timestamp
        BinaryPrimitives.WriteInt64BigEndian(span[2..], sct.Timestamp);
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], 1); // precert_entry
        issuerKeyHash.CopyTo(span[12..]);
        span[44] = (byte)(precertificate.Length >> 16);
        span[45] = (byte)(precertificate.Length >> 8);
        span[46] = (byte)precertificate.Length;
        precertificate.CopyTo(span[47..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[(47 + precertificate.Length)..], (ushort)sct.Extensions.Length);
        sct.Extensions.CopyTo(span[(49 + precertificate.Length)..]);
        return data;
    }

    private static List<Sct> ParseList(byte[] tls)
    {
        var reader = new TlsReader(tls);
        var list = new TlsReader(reader.Vector16());
        reader.End();
        var scts = new List<Sct>();
        while (!list.AtEnd)
        {
            var sct = new TlsReader(list.Vector16());
            if (sct.Byte() != 0)
            {
                continue; // an SCT version this verifier does not know is skipped, as RFC 6962 asks
            }

            var logId = sct.Bytes(32);
            var timestamp = sct.Int64();
            var extensions = sct.Vector16();
            sct.Byte(); // hash algorithm
            sct.Byte(); // signature algorithm
            var signature = sct.Vector16();
            sct.End();
            scts.Add(new Sct(logId, timestamp, extensions, signature));
        }

        return scts;
    }

    private sealed record Sct(byte[] LogId, long Timestamp, byte[] Extensions, byte[] Signature);

    private ref struct TlsReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public readonly bool AtEnd => _data.IsEmpty;

        public byte Byte() => Bytes(1)[0];

        public long Int64() => BinaryPrimitives.ReadInt64BigEndian(Bytes(8));

        public byte[] Vector16() => Bytes(BinaryPrimitives.ReadUInt16BigEndian(Bytes(2)));

        public byte[] Bytes(int count)
        {
            if (count > _data.Length)
            {
                throw new FormatException("truncated SCT data");
            }

            var bytes = _data[..count].ToArray();
            _data = _data[count..];
            return bytes;
        }

        public readonly void End()
        {
            if (!_data.IsEmpty)
            {
                throw new FormatException("trailing bytes in SCT data");
            }
        }
    }
}

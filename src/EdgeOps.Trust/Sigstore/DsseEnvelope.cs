using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeOps.Trust.Sigstore;

/// <summary>A DSSE envelope (payload type, payload, signatures) as a bundle carries it.</summary>
internal sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<byte[]> Signatures)
{
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary>Sigstore envelopes carry exactly one signature.</summary>
    public byte[] Signature => Signatures[0];

    public static DsseEnvelope Read(JsonElement envelope, string path)
    {
        var signatures = ProtoJson.Array(envelope, "signatures", path);
        if (signatures.Count != 1)
        {
            throw new BundleException(BundleFailure.Malformed, $"{path}.signatures must hold exactly one signature, found {signatures.Count}");
        }

        return new DsseEnvelope(
            ProtoJson.String(envelope, "payloadType", path),
            ProtoJson.Bytes(envelope, "payload", path),
            [.. signatures.Select((s, i) => ProtoJson.Bytes(s, "sig", $"{path}.signatures[{i}]"))]);
    }

    /// <summary>The pre-authentication encoding DSSE signs: "DSSEv1 len(type) type len(body) body".</summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, ReadOnlySpan<byte> payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"DSSEv1 {type.Length} "));
        var middle = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $" {payload.Length} "));
        var pae = new byte[header.Length + type.Length + middle.Length + payload.Length];
        header.CopyTo(pae, 0);
        type.CopyTo(pae, header.Length);
        middle.CopyTo(pae, header.Length + type.Length);
        payload.CopyTo(pae.AsSpan(header.Length + type.Length + middle.Length));
        return pae;
    }

    public byte[] PreAuthenticationEncoding() => PreAuthenticationEncoding(PayloadType, Payload);

    /// <summary>The SHA-256 digests (lower-case hex) of the in-toto statement's subjects.</summary>
    public IReadOnlyList<string> InTotoSubjectDigests()
    {
        if (PayloadType != InTotoPayloadType)
        {
            throw new BundleException(BundleFailure.Artifact, $"the envelope's payload type is {PayloadType}, not an in-toto statement naming the artifact");
        }

        using var statement = ProtoJson.Parse(Payload, BundleFailure.Artifact, "the in-toto statement");
        var root = statement.RootElement;
        var subjects = ProtoJson.Array(root, "subject", "statement", BundleFailure.Artifact);
        var digests = new List<string>();
        foreach (var subject in subjects)
        {
            if (ProtoJson.OptionalObject(subject, "digest", "statement.subject", BundleFailure.Artifact) is { } digest &&
                ProtoJson.OptionalString(digest, "sha256", "statement.subject.digest", BundleFailure.Artifact) is { } sha256)
            {
                digests.Add(sha256.ToLowerInvariant());
            }
        }

        return digests;
    }
}

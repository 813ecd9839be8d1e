using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// Checks one transparency log entry of a bundle: the log is trusted, the logged body describes exactly this
/// bundle's signature, key or certificate and artifact, the inclusion proof leads to a checkpoint the log
/// signed, and the inclusion promise (signed entry timestamp) is the log's. Rekor v1 (hashedrekord, dsse,
/// intoto) and Rekor v2 (hashedrekord 0.0.2, dsse 0.0.2) entries.
/// </summary>
internal static class TransparencyLogVerifier
{
    /// <summary>Verifies the entry; returns its integrated time when the log's promise vouches for it.</summary>
    public static DateTimeOffset? Verify(TransparencyLogEntry entry, Bundle bundle, SignedMaterial material, ArtifactInput artifact, TrustedRoot root)
    {
        var log = root.FindTransparencyLog(entry.LogId)
            ?? throw new BundleException(BundleFailure.TransparencyLogEntry, $"{entry.Path}: log {Convert.ToBase64String(entry.LogId)} is not in the trusted root");

        if (entry.SignedEntryTimestamp is null && bundle.MinorVersion == 1)
        {
            throw new BundleException(BundleFailure.InclusionPromise, $"{entry.Path}: a v0.1 bundle's entry must carry an inclusion promise");
        }

        if (entry.LogIndex < 0)
        {
            throw new BundleException(BundleFailure.TransparencyLogEntry, $"{entry.Path}: log index {entry.LogIndex} is negative");
        }

        // Without an inclusion promise nothing but the proof vouches for where the entry is (Rekor v2 logs are
        // not sharded, so the two indexes are the same number).
        if (entry.SignedEntryTimestamp is null && entry.Proof is { } unpromised && unpromised.LogIndex != entry.LogIndex)
        {
            throw new BundleException(BundleFailure.TransparencyLogEntry,
                $"{entry.Path}: the entry's log index {entry.LogIndex} is not its inclusion proof's {unpromised.LogIndex}");
        }

        CheckBody(entry, bundle, material, artifact);

        if (entry.Proof is { } proof)
        {
            VerifyInclusion(entry, proof, log, bundle.MinorVersion);
        }
        else if (bundle.MinorVersion >= 2)
        {
            throw new BundleException(BundleFailure.InclusionProof, $"{entry.Path}: the entry has no inclusion proof (required from bundle v0.2)");
        }

        if (entry.SignedEntryTimestamp is null)
        {
            return null;
        }

        if (!log.Key.VerifyData(PromisePayload(entry), entry.SignedEntryTimestamp))
        {
            throw new BundleException(BundleFailure.InclusionPromise, $"{entry.Path}: the signed entry timestamp is not the log's signature over this entry");
        }

        var integrated = DateTimeOffset.FromUnixTimeSeconds(entry.IntegratedTime);
        if (!log.ValidFor.Contains(integrated))
        {
            throw new BundleException(BundleFailure.TransparencyLogEntry, $"{entry.Path}: integrated at {integrated:O}, outside the log key's validity {log.ValidFor}");
        }

        return integrated;
    }

    /// <summary>The canonical JSON the log signs as its inclusion promise (keys sorted, no spaces).</summary>
    internal static byte[] PromisePayload(TransparencyLogEntry entry) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"{{\"body\":\"{Convert.ToBase64String(entry.CanonicalizedBody)}\",\"integratedTime\":{entry.IntegratedTime},\"logID\":\"{Convert.ToHexStringLower(entry.LogId)}\",\"logIndex\":{entry.LogIndex}}}"));

    private static void VerifyInclusion(TransparencyLogEntry entry, InclusionProof proof, TransparencyLogKey log, int minorVersion)
    {
        var root = Merkle.RootFromInclusionProof(proof.LogIndex, proof.TreeSize, Merkle.LeafHash(entry.CanonicalizedBody), proof.Hashes);
        if (root is null || !root.AsSpan().SequenceEqual(proof.RootHash))
        {
            throw new BundleException(BundleFailure.InclusionProof, $"{entry.Path}: the inclusion proof does not lead from the entry to root hash {Convert.ToBase64String(proof.RootHash)}");
        }

        if (string.IsNullOrEmpty(proof.Checkpoint))
        {
            if (minorVersion == 1)
            {
                return; // v0.1 bundles may predate checkpoints; their inclusion promise vouches for the entry
            }

            throw new BundleException(BundleFailure.Checkpoint, $"{entry.Path}: the inclusion proof has no checkpoint");
        }

        var note = SignedNote.Parse(proof.Checkpoint);
        if (note.TreeSize != proof.TreeSize || !note.RootHash.AsSpan().SequenceEqual(proof.RootHash))
        {
            throw new BundleException(BundleFailure.Checkpoint,
                $"{entry.Path}: the checkpoint is for tree size {note.TreeSize} with root {Convert.ToBase64String(note.RootHash)}, not the proof's {proof.TreeSize} with {Convert.ToBase64String(proof.RootHash)}");
        }

        var name = SignedNote.LogName(log);
        if (name is not null && !note.HasOrigin(name))
        {
            throw new BundleException(BundleFailure.Checkpoint, $"{entry.Path}: the checkpoint's origin '{note.Origin}' is not log {name}");
        }

        if (!note.IsSignedBy(log, name))
        {
            throw new BundleException(BundleFailure.Checkpoint, $"{entry.Path}: the checkpoint carries no valid signature of log {log.BaseUrl}");
        }
    }

    private static void CheckBody(TransparencyLogEntry entry, Bundle bundle, SignedMaterial material, ArtifactInput artifact)
    {
        using (var document = ProtoJson.Parse(entry.CanonicalizedBody, BundleFailure.TransparencyLogEntry, $"{entry.Path}: the logged body"))
        {
            var body = document.RootElement;
            const BundleFailure F = BundleFailure.TransparencyLogEntry;
            var kind = ProtoJson.String(body, "kind", "body", F);
            var version = ProtoJson.String(body, "apiVersion", "body", F);
            if (kind != entry.Kind || version != entry.Version)
            {
                throw new BundleException(F, $"{entry.Path}: kindVersion says {entry.Kind} {entry.Version}, the logged body is {kind} {version}");
            }

            var spec = ProtoJson.Object(body, "spec", "body", F);
            var logged = new LoggedBody(entry.Path, spec);
            switch ((kind, version, bundle.Envelope is not null))
            {
                case ("hashedrekord", "0.0.1", false):
                    logged.HashedRekordV001(bundle.MessageSignature!.Signature, material, artifact);
                    break;
                case ("hashedrekord", "0.0.2", false):
                    logged.HashedRekordV002(bundle.MessageSignature!.Signature, material, artifact.Digest);
                    break;
                case ("hashedrekord", "0.0.2", true):
                    logged.HashedRekordV002(bundle.Envelope!.Signature, material, ArtifactInput.FromBytes(bundle.Envelope.PreAuthenticationEncoding()).Digest);
                    break;
                case ("dsse", "0.0.1", true):
                    logged.DsseV001(bundle.Envelope!, material);
                    break;
                case ("dsse", "0.0.2", true):
                    logged.DsseV002(bundle.Envelope!, material);
                    break;
                case ("intoto", "0.0.2", true):
                    logged.IntotoV002(bundle.Envelope!, material);
                    break;
                case (_, _, var isEnvelope) when kind is "hashedrekord" or "dsse" or "intoto":
                    throw new BundleException(F, $"{entry.Path}: a {kind} {version} entry cannot log a {(isEnvelope ? "DSSE envelope" : "message signature")}");
                default:
                    throw new BundleException(F, $"{entry.Path}: unsupported entry kind {kind} {version}");
            }
        }
    }

    /// <summary>Comparisons of a logged body's spec against the bundle, one method per entry kind.</summary>
    private readonly struct LoggedBody(string path, JsonElement spec)
    {
        private const BundleFailure F = BundleFailure.TransparencyLogEntry;

        public void HashedRekordV001(byte[] signature, SignedMaterial material, ArtifactInput artifact)
        {
            var hash = ProtoJson.Object(ProtoJson.Object(spec, "data", "spec", F), "hash", "spec.data", F);
            var algorithm = ProtoJson.String(hash, "algorithm", "spec.data.hash", F);
            if (ArtifactInput.HashName(algorithm) is null)
            {
                throw new BundleException(F, $"{path}: the logged artifact hash is {algorithm}; sha256, sha384 and sha512 are supported");
            }

            ExpectDigest(HexDigest(ProtoJson.String(hash, "value", "spec.data.hash", F)), artifact.Digest(algorithm), algorithm);
            var logged = ProtoJson.Object(spec, "signature", "spec", F);
            ExpectSignature(ProtoJson.Bytes(logged, "content", "spec.signature", F), signature);
            ExpectPem(ProtoJson.Bytes(ProtoJson.Object(logged, "publicKey", "spec.signature", F), "content", "spec.signature.publicKey", F), material);
        }

        public void HashedRekordV002(byte[] signature, SignedMaterial material, Func<string, byte[]> digest)
        {
            var v2 = ProtoJson.Object(spec, "hashedRekordV002", "spec", F);
            var data = ProtoJson.Object(v2, "data", "spec.hashedRekordV002", F);
            var algorithm = ProtoJson.String(data, "algorithm", "spec.hashedRekordV002.data", F);
            if (ArtifactInput.HashName(algorithm) is null)
            {
                throw new BundleException(F, $"{path}: the logged digest is {algorithm}; SHA2_256, SHA2_384 and SHA2_512 are supported");
            }

            ExpectDigest(ProtoJson.Bytes(data, "digest", "spec.hashedRekordV002.data", F), digest(algorithm), algorithm);
            var logged = ProtoJson.Object(v2, "signature", "spec.hashedRekordV002", F);
            ExpectSignature(ProtoJson.Bytes(logged, "content", "spec.hashedRekordV002.signature", F), signature);
            ExpectVerifier(ProtoJson.Object(logged, "verifier", "spec.hashedRekordV002.signature", F), material);
        }

        public void DsseV001(DsseEnvelope envelope, SignedMaterial material)
        {
            var payloadHash = ProtoJson.Object(spec, "payloadHash", "spec", F);
            if (ProtoJson.String(payloadHash, "algorithm", "spec.payloadHash", F) != "sha256")
            {
                throw new BundleException(F, $"{path}: the logged payload hash is not sha256");
            }

            ExpectEnvelope(HexDigest(ProtoJson.String(payloadHash, "value", "spec.payloadHash", F)), SHA256.HashData(envelope.Payload), "payload hash");
            var signatures = ProtoJson.Array(spec, "signatures", "spec", F);
            ExpectOneSignature(signatures.Count);
            ExpectEnvelope(ProtoJson.Bytes(signatures[0], "signature", "spec.signatures[0]", F), envelope.Signature, "signature");
            ExpectPem(ProtoJson.Bytes(signatures[0], "verifier", "spec.signatures[0]", F), material);
        }

        public void DsseV002(DsseEnvelope envelope, SignedMaterial material)
        {
            var v2 = ProtoJson.Object(spec, "dsseV002", "spec", F);
            var payloadHash = ProtoJson.Object(v2, "payloadHash", "spec.dsseV002", F);
            ExpectAlgorithm(ProtoJson.String(payloadHash, "algorithm", "spec.dsseV002.payloadHash", F));
            ExpectEnvelope(ProtoJson.Bytes(payloadHash, "digest", "spec.dsseV002.payloadHash", F), SHA256.HashData(envelope.Payload), "payload hash");
            var signatures = ProtoJson.Array(v2, "signatures", "spec.dsseV002", F);
            ExpectOneSignature(signatures.Count);
            ExpectEnvelope(ProtoJson.Bytes(signatures[0], "content", "spec.dsseV002.signatures[0]", F), envelope.Signature, "signature");
            ExpectVerifier(ProtoJson.Object(signatures[0], "verifier", "spec.dsseV002.signatures[0]", F), material);
        }

        public void IntotoV002(DsseEnvelope envelope, SignedMaterial material)
        {
            var content = ProtoJson.Object(spec, "content", "spec", F);
            var logged = ProtoJson.Object(content, "envelope", "spec.content", F);
            if (ProtoJson.String(logged, "payloadType", "spec.content.envelope", F) != envelope.PayloadType)
            {
                throw new BundleException(F, $"{path}: the logged envelope's payload type differs from the bundle's");
            }

            // intoto 0.0.2 stores the envelope's base64 fields base64-encoded once more.
            var payload = ProtoJson.Bytes(logged, "payload", "spec.content.envelope", F);
            ExpectEnvelope(ProtoJson.Base64(Encoding.ASCII.GetString(payload), "spec.content.envelope.payload", F), envelope.Payload, "payload");
            var signatures = ProtoJson.Array(logged, "signatures", "spec.content.envelope", F);
            ExpectOneSignature(signatures.Count);
            var signature = ProtoJson.Bytes(signatures[0], "sig", "spec.content.envelope.signatures[0]", F);
            ExpectEnvelope(ProtoJson.Base64(Encoding.ASCII.GetString(signature), "spec.content.envelope.signatures[0].sig", F), envelope.Signature, "signature");
            ExpectPem(ProtoJson.Bytes(signatures[0], "publicKey", "spec.content.envelope.signatures[0]", F), material);
            if (ProtoJson.OptionalObject(content, "payloadHash", "spec.content", F) is { } payloadHash &&
                ProtoJson.OptionalString(payloadHash, "value", "spec.content.payloadHash", F) is { } value)
            {
                ExpectEnvelope(HexDigest(value), SHA256.HashData(envelope.Payload), "payload hash");
            }
        }

        private void ExpectOneSignature(int count)
        {
            if (count != 1)
            {
                throw new BundleException(F, $"{path}: the logged envelope has {count} signatures, the bundle's has one");
            }
        }

        private void ExpectAlgorithm(string algorithm)
        {
            if (algorithm != "SHA2_256")
            {
                throw new BundleException(F, $"{path}: the logged digest is {algorithm}; only SHA2_256 is supported");
            }
        }

        private void ExpectDigest(byte[] logged, byte[] actual, string algorithm)
        {
            if (!logged.AsSpan().SequenceEqual(actual))
            {
                var label = ArtifactInput.HashName(algorithm)!.Value.Name!.ToLowerInvariant();
                throw new BundleException(BundleFailure.Artifact,
                    $"{path}: the log entry is for an artifact with digest {label}:{Convert.ToHexStringLower(logged)}, not {label}:{Convert.ToHexStringLower(actual)}");
            }
        }

        private void ExpectSignature(byte[] logged, byte[] actual)
        {
            if (!logged.AsSpan().SequenceEqual(actual))
            {
                throw new BundleException(F, $"{path}: the logged signature is not the bundle's signature");
            }
        }

        private void ExpectEnvelope(byte[] logged, byte[] actual, string what)
        {
            if (!logged.AsSpan().SequenceEqual(actual))
            {
                throw new BundleException(F, $"{path}: the logged envelope {what} differs from the bundle's DSSE envelope");
            }
        }

        /// <summary>A PEM certificate or public key, as Rekor v1 stores the verifier.</summary>
        private void ExpectPem(byte[] pem, SignedMaterial material)
        {
            var text = Encoding.UTF8.GetString(pem);
            if (!System.Security.Cryptography.PemEncoding.TryFind(text, out var fields))
            {
                throw new BundleException(F, $"{path}: the logged verifier is not PEM");
            }

            var der = Convert.FromBase64String(text[fields.Base64Data]);
            var label = text[fields.Label];
            ExpectMaterial(label == "CERTIFICATE" ? der : null, label == "PUBLIC KEY" ? der : null, material);
        }

        /// <summary>A Rekor v2 verifier: x509Certificate.rawBytes or publicKey.rawBytes.</summary>
        private void ExpectVerifier(JsonElement verifier, SignedMaterial material)
        {
            var certificate = ProtoJson.OptionalObject(verifier, "x509Certificate", "verifier", F);
            var key = ProtoJson.OptionalObject(verifier, "publicKey", "verifier", F);
            ExpectMaterial(
                certificate is { } c ? ProtoJson.Bytes(c, "rawBytes", "verifier.x509Certificate", F) : null,
                key is { } k ? ProtoJson.Bytes(k, "rawBytes", "verifier.publicKey", F) : null,
                material);
        }

        private void ExpectMaterial(byte[]? certificate, byte[]? key, SignedMaterial material)
        {
            var matches = material.Certificate is not null
                ? certificate is not null && certificate.AsSpan().SequenceEqual(material.Certificate.Raw)
                : key is not null && key.AsSpan().SequenceEqual(material.Key.SubjectPublicKeyInfo);
            if (!matches)
            {
                throw new BundleException(F, $"{path}: the logged {(certificate is not null ? "certificate" : "key")} is not the bundle's {(material.Certificate is not null ? "signing certificate" : "key")}");
            }
        }

        private byte[] HexDigest(string hex) =>
            hex.Length is 64 or 96 or 128 && hex.All(char.IsAsciiHexDigit)
                ? Convert.FromHexString(hex)
                : throw new BundleException(F, $"{path}: the logged digest is not 64, 96 or 128 hex digits");
    }
}

/// <summary>What signed the bundle: a certificate (and its key) or a bare key.</summary>
internal sealed record SignedMaterial(Certificate? Certificate, SigstoreKey Key);

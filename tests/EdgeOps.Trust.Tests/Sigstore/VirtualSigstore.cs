using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NSec.Cryptography;
using Merkle = EdgeOps.Trust.Sigstore.Merkle;

namespace EdgeOps.Trust.Tests.Sigstore;

/// <summary>How a virtual signing is shaped: bundle version, log generation, timestamps, proof position.</summary>
internal sealed record SignOptions
{
    public string BundleVersion { get; init; } = "0.3";

    /// <summary>1: Rekor v1 (ECDSA checkpoint, inclusion promise); 2: Rekor v2 (Ed25519 checkpoint, no promise).</summary>
    public int Rekor { get; init; } = 1;

    public bool InclusionPromise { get; init; } = true;

    public bool InclusionProof { get; init; } = true;

    public bool Timestamp { get; init; }

    /// <summary>Other entries logged before and after ours, so proofs have many levels and both sides.</summary>
    public int LeavesBefore { get; init; } = 5;

    public int LeavesAfter { get; init; } = 3;

    /// <summary>When the signing happens; defaults to the instance's clock.</summary>
    public DateTimeOffset? SignedAt { get; init; }

    public string Identity { get; init; } = VirtualSigstore.DefaultIdentity;

    public string Issuer { get; init; } = VirtualSigstore.DefaultIssuer;

    /// <summary>Leaf validity, from <see cref="SignedAt"/> minus a minute; Fulcio issues for ten minutes.</summary>
    public TimeSpan CertificateLifetime { get; init; } = TimeSpan.FromMinutes(10);

    public bool EmbedSct { get; init; } = true;

    /// <summary>Overrides the checkpoint's origin line (still signed by the log's key).</summary>
    public string? CheckpointOrigin { get; init; }

    /// <summary>Overrides the name on the log's checkpoint signature line.</summary>
    public string? CheckpointSigner { get; init; }

    /// <summary>A witness cosignature line placed before the log's own signature in the checkpoint.</summary>
    public bool WitnessFirst { get; init; }

    /// <summary>Sign with this key (ECDSA or RSA) instead of a Fulcio certificate (key-based bundle).</summary>
    public AsymmetricAlgorithm? Key { get; init; }

    /// <summary>Extra extensions written into the leaf certificate (for certificates Fulcio would never issue).</summary>
    public IReadOnlyList<X509Extension> ExtraExtensions { get; init; } = [];

    /// <summary>The key usage of the leaf; Fulcio's is digitalSignature.</summary>
    public X509KeyUsageFlags KeyUsage { get; init; } = X509KeyUsageFlags.DigitalSignature;

    /// <summary>The key type Fulcio certifies: "p256", "p384" or "rsa3072".</summary>
    public string LeafKey { get; init; } = "p256";
}

/// <summary>
/// A complete Sigstore instance in memory for tests: a Fulcio-like CA (root and intermediate), a CT log that
/// embeds SCTs, a Rekor v1 log (ECDSA) and a Rekor v2 log (Ed25519 checkpoints), and a timestamp authority.
/// It signs artifacts into bundles and writes the matching trusted root, so tests can make what public fixtures
/// cannot: many-leaf proofs, Ed25519 checkpoints, expired chains, backdated roots. It uses only the verifier's
/// public surface, so other test projects compile it in too.
/// </summary>
internal sealed class VirtualSigstore : IDisposable
{
    public const string DefaultIdentity = "https://github.com/pomona/fleet/.github/workflows/release.yml@refs/heads/main";
    public const string DefaultIssuer = "https://token.actions.githubusercontent.com";
    public const string RekorOrigin = "rekor.virtual.test - 42";
    public const string RekorV2Origin = "log2026.rekor.virtual.test";

    private static readonly Oid Sha256Oid = new("2.16.840.1.101.3.4.2.1");

    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    private readonly ECDsa _ctKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _rekorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly Key _rekorV2Key = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
    private readonly Key _witnessKey = Key.Create(SignatureAlgorithm.Ed25519);
    private readonly ECDsa _tsaRootKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    private readonly ECDsa _tsaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private long _serial = 1000;

    public VirtualSigstore(DateTimeOffset? now = null, DateTimeOffset? intermediateNotAfter = null)
    {
        Now = now ?? new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var start = Now.AddYears(-2);
        Root = CaCertificate("CN=virtual-fulcio-root, O=edgeops.test", _rootKey, null, start, Now.AddYears(8));
        Intermediate = CaCertificate("CN=virtual-fulcio-intermediate, O=edgeops.test", _intermediateKey, (Root, _rootKey), start, intermediateNotAfter ?? Now.AddYears(5));
        TsaRoot = CaCertificate("CN=virtual-tsa-root, O=edgeops.test", _tsaRootKey, null, start, Now.AddYears(8));
        TsaLeaf = TsaCertificate(start, Now.AddYears(5));
        CaValidFor = (start, null);
        RekorValidFor = (start, null);
    }

    public DateTimeOffset Now { get; }

    public X509Certificate2 Root { get; }

    public X509Certificate2 Intermediate { get; }

    public X509Certificate2 TsaRoot { get; }

    public X509Certificate2 TsaLeaf { get; }

    /// <summary>Validity windows written into the trusted root; tests move them to make backdated roots.</summary>
    public (DateTimeOffset Start, DateTimeOffset? End) CaValidFor { get; set; }

    public (DateTimeOffset Start, DateTimeOffset? End) RekorValidFor { get; set; }

    public bool IncludeTimestampAuthority { get; set; } = true;

    public bool IncludeCtLog { get; set; } = true;

    public byte[] RekorLogId => SHA256.HashData(_rekorKey.ExportSubjectPublicKeyInfo());

    public byte[] RekorV2LogId => SHA256.HashData(RekorV2Spki());

    public byte[] CtLogId => SHA256.HashData(_ctKey.ExportSubjectPublicKeyInfo());

    public string TrustedRootJson()
    {
        var root = new JsonObject
        {
            ["mediaType"] = "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            ["tlogs"] = new JsonArray(
                Log("https://rekor.virtual.test", _rekorKey.ExportSubjectPublicKeyInfo(), "PKIX_ECDSA_P256_SHA_256", RekorValidFor),
                Log("https://log2026.rekor.virtual.test", RekorV2Spki(), "PKIX_ED25519", RekorValidFor)),
            ["certificateAuthorities"] = new JsonArray(Authority("https://fulcio.virtual.test", [Intermediate, Root], CaValidFor)),
            ["ctlogs"] = IncludeCtLog
                ? new JsonArray(Log("https://ctfe.virtual.test", _ctKey.ExportSubjectPublicKeyInfo(), "PKIX_ECDSA_P256_SHA_256", (Now.AddYears(-2), null)))
                : new JsonArray(),
            ["timestampAuthorities"] = IncludeTimestampAuthority
                ? new JsonArray(Authority("https://tsa.virtual.test", [TsaLeaf, TsaRoot], (Now.AddYears(-2), null)))
                : new JsonArray(),
        };
        return root.ToJsonString();
    }

    public EdgeOps.Trust.Sigstore.TrustedRoot TrustedRoot() => EdgeOps.Trust.Sigstore.TrustedRoot.Parse(TrustedRootJson());

    /// <summary>Signs <paramref name="artifact"/> as a message signature and returns the bundle JSON.</summary>
    public string SignMessage(byte[] artifact, SignOptions? options = null)
    {
        options ??= new SignOptions();
        var at = options.SignedAt ?? Now;
        var (key, certificate) = Signer(options, at);
        var p384 = key is ECDsa { KeySize: 384 };
        var (hash, rekorName, protoName) = p384 ? (HashAlgorithmName.SHA384, "sha384", "SHA2_384") : (HashAlgorithmName.SHA256, "sha256", "SHA2_256");
        var digest = p384 ? SHA384.HashData(artifact) : SHA256.HashData(artifact);
        var signature = SignDigest(key, digest, hash);
        var verifier = Verifier(key, certificate);

        JsonObject body = options.Rekor == 1
            ? new JsonObject
            {
                ["apiVersion"] = "0.0.1",
                ["kind"] = "hashedrekord",
                ["spec"] = new JsonObject
                {
                    ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = rekorName, ["value"] = Convert.ToHexStringLower(digest) } },
                    ["signature"] = new JsonObject
                    {
                        ["content"] = Convert.ToBase64String(signature),
                        ["publicKey"] = new JsonObject { ["content"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(verifier.Pem)) },
                    },
                },
            }
            : HashedRekordV002(digest, signature, verifier, protoName);

        var content = new JsonObject
        {
            ["messageSignature"] = new JsonObject
            {
                ["messageDigest"] = new JsonObject { ["algorithm"] = protoName, ["digest"] = Convert.ToBase64String(digest) },
                ["signature"] = Convert.ToBase64String(signature),
            },
        };
        return Bundle(options, at, certificate, body, signature, content);
    }

    /// <summary>Signs an in-toto statement naming <paramref name="artifact"/> as a DSSE envelope (logged as dsse 0.0.1).</summary>
    public string SignDsse(byte[] artifact, SignOptions? options = null)
    {
        options ??= new SignOptions();
        var at = options.SignedAt ?? Now;
        var (key, certificate) = Signer(options, at);
        var statement = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["_type"] = "https://in-toto.io/Statement/v1",
            ["subject"] = new JsonArray(new JsonObject
            {
                ["name"] = "rootfs.raucb",
                ["digest"] = new JsonObject { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(artifact)) },
            }),
            ["predicateType"] = "https://slsa.dev/provenance/v1",
            ["predicate"] = new JsonObject { ["builder"] = new JsonObject { ["id"] = "https://ci.virtual.test" } },
        }.ToJsonString());
        const string PayloadType = "application/vnd.in-toto+json";
        var pae = Encoding.UTF8.GetBytes($"DSSEv1 {PayloadType.Length} {PayloadType} {statement.Length} ").Concat(statement).ToArray();
        var signature = SignData(key, pae);
        var verifier = Verifier(key, certificate);

        JsonObject body = options.Rekor == 1
            ? new JsonObject
            {
                ["apiVersion"] = "0.0.1",
                ["kind"] = "dsse",
                ["spec"] = new JsonObject
                {
                    ["envelopeHash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = new string('0', 64) },
                    ["payloadHash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = Convert.ToHexStringLower(SHA256.HashData(statement)) },
                    ["signatures"] = new JsonArray(new JsonObject
                    {
                        ["signature"] = Convert.ToBase64String(signature),
                        ["verifier"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(verifier.Pem)),
                    }),
                },
            }
            : HashedRekordV002(SHA256.HashData(pae), signature, verifier, "SHA2_256");

        var content = new JsonObject
        {
            ["dsseEnvelope"] = new JsonObject
            {
                ["payload"] = Convert.ToBase64String(statement),
                ["payloadType"] = PayloadType,
                ["signatures"] = new JsonArray(new JsonObject { ["sig"] = Convert.ToBase64String(signature) }),
            },
        };
        return Bundle(options, at, certificate, body, signature, content);
    }

    /// <summary>An RFC 3161 timestamp response over <paramref name="signature"/>, signed by this TSA (or another).</summary>
    public byte[] Timestamp(byte[] signature, DateTimeOffset at, X509Certificate2? signerWithKey = null, bool embedCertificate = false)
    {
        signerWithKey ??= TsaLeaf.CopyWithPrivateKey(_tsaKey);
        var info = new Rfc3161TimestampTokenInfo(new Oid("1.3.6.1.4.1.57264.2"), Sha256Oid, SHA256.HashData(signature),
            BitConverter.GetBytes(Interlocked.Increment(ref _serial)), at);
        var cms = new SignedCms(new ContentInfo(new Oid("1.2.840.113549.1.9.16.1.4"), info.Encode()));
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, signerWithKey)
        {
            DigestAlgorithm = Sha256Oid,
            IncludeOption = embedCertificate ? X509IncludeOption.EndCertOnly : X509IncludeOption.None,
        };
        signer.SignedAttributes.Add(new AsnEncodedData("1.2.840.113549.1.9.16.2.47", SigningCertificateV2(signerWithKey)));
        cms.ComputeSignature(signer);

        var response = new AsnWriter(AsnEncodingRules.DER);
        using (response.PushSequence())
        {
            using (response.PushSequence())
            {
                response.WriteInteger(0);
            }

            response.WriteEncodedValue(cms.Encode());
        }

        return response.Encode();
    }

    /// <summary>A timestamp authority that no trusted root names, for "untrusted TSA" tests.</summary>
    public static X509Certificate2 StrangerTsa(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=stranger-tsa", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.8")], critical: true));
        using var certificate = request.CreateSelfSigned(now.AddYears(-1), now.AddYears(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        foreach (var disposable in new IDisposable[] { _rootKey, _intermediateKey, _ctKey, _rekorKey, _rekorV2Key, _witnessKey, _tsaRootKey, _tsaKey, Root, Intermediate, TsaRoot, TsaLeaf })
        {
            disposable.Dispose();
        }
    }

    private static byte[] SignDigest(AsymmetricAlgorithm key, byte[] digest, HashAlgorithmName hash) => key switch
    {
        ECDsa ecdsa => ecdsa.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence),
        RSA rsa => rsa.SignHash(digest, hash, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException(key.GetType().Name),
    };

    private static byte[] SignData(AsymmetricAlgorithm key, byte[] data) => key switch
    {
        ECDsa ecdsa => ecdsa.SignData(data, ecdsa.KeySize == 384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
        RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException(key.GetType().Name),
    };

    private static JsonObject HashedRekordV002(byte[] digest, byte[] signature, (string Pem, JsonObject V2) verifier, string algorithm) => new()
    {
        ["apiVersion"] = "0.0.2",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["hashedRekordV002"] = new JsonObject
            {
                ["data"] = new JsonObject { ["algorithm"] = algorithm, ["digest"] = Convert.ToBase64String(digest) },
                ["signature"] = new JsonObject { ["content"] = Convert.ToBase64String(signature), ["verifier"] = verifier.V2 },
            },
        },
    };

    private static (string Pem, JsonObject V2) Verifier(AsymmetricAlgorithm key, X509Certificate2? certificate)
    {
        var details = key switch
        {
            ECDsa { KeySize: 384 } => "PKIX_ECDSA_P384_SHA_384",
            ECDsa => "PKIX_ECDSA_P256_SHA_256",
            _ => "PKIX_RSA_PKCS1V15_3072_SHA256",
        };
        return certificate is not null
            ? (certificate.ExportCertificatePem(), new JsonObject { ["x509Certificate"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(certificate.RawData) }, ["keyDetails"] = details })
            : (key.ExportSubjectPublicKeyInfoPem(), new JsonObject { ["publicKey"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()) }, ["keyDetails"] = details });
    }

    private (AsymmetricAlgorithm Key, X509Certificate2? Certificate) Signer(SignOptions options, DateTimeOffset at)
    {
        if (options.Key is { } key)
        {
            return (key, null);
        }

        AsymmetricAlgorithm leafKey = options.LeafKey switch
        {
            "p384" => ECDsa.Create(ECCurve.NamedCurves.nistP384),
            "rsa3072" => RSA.Create(3072),
            _ => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        };
        return (leafKey, IssueLeaf(leafKey, options, at));
    }

    private string Bundle(SignOptions options, DateTimeOffset at, X509Certificate2? certificate, JsonObject body, byte[] signature, JsonObject content)
    {
        var bodyBytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        var leaves = new List<byte[]>();
        for (var i = 0; i < options.LeavesBefore; i++)
        {
            leaves.Add(Merkle.LeafHash(Encoding.UTF8.GetBytes($"{{\"filler\":{i}}}")));
        }

        var index = leaves.Count;
        leaves.Add(Merkle.LeafHash(bodyBytes));
        for (var i = 0; i < options.LeavesAfter; i++)
        {
            leaves.Add(Merkle.LeafHash(Encoding.UTF8.GetBytes($"{{\"after\":{i}}}")));
        }

        var v2 = options.Rekor == 2;
        var logId = v2 ? RekorV2LogId : RekorLogId;
        var integratedTime = v2 ? 0 : at.ToUnixTimeSeconds();
        var globalIndex = v2 ? index : 1_000_000L + index; // Rekor v1 shards: the global index differs from the shard's
        var entry = new JsonObject
        {
            ["logIndex"] = globalIndex.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(logId) },
            ["kindVersion"] = new JsonObject { ["kind"] = body["kind"]!.GetValue<string>(), ["version"] = body["apiVersion"]!.GetValue<string>() },
            ["integratedTime"] = integratedTime.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["canonicalizedBody"] = Convert.ToBase64String(bodyBytes),
        };

        if (!v2 && options.InclusionPromise)
        {
            var payload = Encoding.UTF8.GetBytes(
                $"{{\"body\":\"{Convert.ToBase64String(bodyBytes)}\",\"integratedTime\":{integratedTime},\"logID\":\"{Convert.ToHexStringLower(logId)}\",\"logIndex\":{globalIndex}}}");
            entry["inclusionPromise"] = new JsonObject
            {
                ["signedEntryTimestamp"] = Convert.ToBase64String(_rekorKey.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)),
            };
        }

        if (options.InclusionProof)
        {
            var root = TreeHash(leaves, 0, leaves.Count);
            entry["inclusionProof"] = new JsonObject
            {
                ["logIndex"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["rootHash"] = Convert.ToBase64String(root),
                ["treeSize"] = leaves.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["hashes"] = new JsonArray([.. InclusionPath(leaves, index, 0, leaves.Count).Select(h => (JsonNode)Convert.ToBase64String(h))]),
                ["checkpoint"] = new JsonObject { ["envelope"] = Checkpoint(v2, leaves.Count, root, options) },
            };
        }

        var material = new JsonObject { ["tlogEntries"] = new JsonArray(entry) };
        if (certificate is null)
        {
            material["publicKey"] = new JsonObject { ["hint"] = "a-key-hint" };
        }
        else if (options.BundleVersion == "0.3")
        {
            material["certificate"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(certificate.RawData) };
        }
        else
        {
            material["x509CertificateChain"] = new JsonObject
            {
                ["certificates"] = new JsonArray(new JsonObject { ["rawBytes"] = Convert.ToBase64String(certificate.RawData) }),
            };
        }

        if (options.Timestamp)
        {
            material["timestampVerificationData"] = new JsonObject
            {
                ["rfc3161Timestamps"] = new JsonArray(new JsonObject { ["signedTimestamp"] = Convert.ToBase64String(Timestamp(signature, at)) }),
            };
        }

        var bundle = new JsonObject
        {
            ["mediaType"] = options.BundleVersion == "0.3"
                ? "application/vnd.dev.sigstore.bundle.v0.3+json"
                : $"application/vnd.dev.sigstore.bundle+json;version={options.BundleVersion}",
            ["verificationMaterial"] = material,
        };
        foreach (var (name, value) in content)
        {
            bundle[name] = value!.DeepClone();
        }

        return bundle.ToJsonString();
    }

    private string Checkpoint(bool v2, int size, byte[] root, SignOptions options)
    {
        var origin = options.CheckpointOrigin ?? (v2 ? RekorV2Origin : RekorOrigin);
        var text = $"{origin}\n{size}\n{Convert.ToBase64String(root)}\n";
        var data = Encoding.UTF8.GetBytes(text);
        var (name, hint, signature) = v2
            ? (RekorV2Origin, RekorV2LogId[..4], SignatureAlgorithm.Ed25519.Sign(_rekorV2Key, data))
            : ("rekor.virtual.test", RekorLogId[..4], _rekorKey.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        var logLine = $"\u2014 {options.CheckpointSigner ?? name} {Convert.ToBase64String([.. hint, .. signature])}\n";
        var witnessLine = $"\u2014 witness.virtual.test {Convert.ToBase64String([.. new byte[] { 9, 9, 9, 9 }, .. new byte[8], .. SignatureAlgorithm.Ed25519.Sign(_witnessKey, data)])}\n";
        return text + "\n" + (options.WitnessFirst ? witnessLine + logLine : logLine);
    }

    private X509Certificate2 IssueLeaf(AsymmetricAlgorithm leafKey, SignOptions options, DateTimeOffset at)
    {
        var notBefore = at.AddMinutes(-1);
        var notAfter = notBefore + options.CertificateLifetime;
        var request = leafKey is RSA rsa
            ? new CertificateRequest(new X500DistinguishedName(""), rsa, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(new X500DistinguishedName(""), (ECDsa)leafKey, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(options.KeyUsage, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3")], critical: false));
        foreach (var extension in options.ExtraExtensions)
        {
            request.CertificateExtensions.Add(extension);
        }

        var san = new SubjectAlternativeNameBuilder();
        if (options.Identity.Contains('@', StringComparison.Ordinal) && !options.Identity.Contains("://", StringComparison.Ordinal))
        {
            san.AddEmailAddress(options.Identity);
        }
        else
        {
            san.AddUri(new Uri(options.Identity));
        }

        request.CertificateExtensions.Add(san.Build(critical: true));
        var issuerValue = new AsnWriter(AsnEncodingRules.DER);
        issuerValue.WriteCharacterString(UniversalTagNumber.UTF8String, options.Issuer);
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.8", issuerValue.Encode(), critical: false));
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.1", Encoding.UTF8.GetBytes(options.Issuer), critical: false));

        var serial = BitConverter.GetBytes(Interlocked.Increment(ref _serial));
        var generator = X509SignatureGenerator.CreateForECDsa(_intermediateKey);
        using var precertificate = request.Create(Intermediate.SubjectName, generator, notBefore, notAfter, serial);
        if (!options.EmbedSct)
        {
            return X509CertificateLoader.LoadCertificate(precertificate.RawData);
        }

        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.11129.2.4.2", SctList(precertificate, at), critical: false));
        using var final = request.Create(Intermediate.SubjectName, generator, notBefore, notAfter, serial);
        return X509CertificateLoader.LoadCertificate(final.RawData);
    }

    /// <summary>The SCT list extension value: an OCTET STRING holding the TLS-encoded list with one SCT.</summary>
    private byte[] SctList(X509Certificate2 precertificate, DateTimeOffset at)
    {
        var tbs = new AsnReader(precertificate.RawData, AsnEncodingRules.DER).ReadSequence().ReadEncodedValue().ToArray();
        var timestamp = at.ToUnixTimeMilliseconds();
        var signed = new List<byte> { 0, 0 };
        signed.AddRange(BigEndian(timestamp, 8));
        signed.AddRange([0, 1]);
        signed.AddRange(SHA256.HashData(Intermediate.PublicKey.ExportSubjectPublicKeyInfo()));
        signed.AddRange(BigEndian(tbs.Length, 3));
        signed.AddRange(tbs);
        signed.AddRange([0, 0]);
        var signature = _ctKey.SignData([.. signed], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        var sct = new List<byte> { 0 };
        sct.AddRange(CtLogId);
        sct.AddRange(BigEndian(timestamp, 8));
        sct.AddRange([0, 0, 4, 3]);
        sct.AddRange(BigEndian(signature.Length, 2));
        sct.AddRange(signature);
        var list = new List<byte>();
        list.AddRange(BigEndian(sct.Count + 2, 2));
        list.AddRange(BigEndian(sct.Count, 2));
        list.AddRange(sct);

        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteOctetString([.. list]);
        return writer.Encode();
    }

    private static byte[] BigEndian(long value, int bytes) => [.. Enumerable.Range(0, bytes).Select(i => (byte)(value >> (8 * (bytes - 1 - i))))];

    private static X509Certificate2 CaCertificate(string subject, ECDsa key, (X509Certificate2 Certificate, ECDsa Key)? issuer, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, issuer is not null, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        if (issuer is not { } i)
        {
            using var self = request.CreateSelfSigned(notBefore, notAfter);
            return X509CertificateLoader.LoadCertificate(self.RawData);
        }

        using var issued = request.Create(i.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(i.Key), notBefore, notAfter, RandomNumberGenerator.GetBytes(8));
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }

    private X509Certificate2 TsaCertificate(DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest("CN=virtual-tsa, O=edgeops.test", _tsaKey, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.8")], critical: true));
        using var issued = request.Create(TsaRoot.SubjectName, X509SignatureGenerator.CreateForECDsa(_tsaRootKey), notBefore, notAfter, RandomNumberGenerator.GetBytes(8));
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }

    private static byte[] SigningCertificateV2(X509Certificate2 certificate)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSequence())
        using (writer.PushSequence())
        {
            writer.WriteOctetString(SHA256.HashData(certificate.RawData));
        }

        return writer.Encode();
    }

    private byte[] RekorV2Spki()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.3.101.112");
            }

            writer.WriteBitString(_rekorV2Key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        }

        return writer.Encode();
    }

    private static JsonObject Log(string url, byte[] spki, string details, (DateTimeOffset Start, DateTimeOffset? End) validFor) => new()
    {
        ["baseUrl"] = url,
        ["hashAlgorithm"] = "SHA2_256",
        ["publicKey"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(spki), ["keyDetails"] = details, ["validFor"] = Window(validFor) },
        ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(SHA256.HashData(spki)) },
    };

    private static JsonObject Authority(string uri, X509Certificate2[] chain, (DateTimeOffset Start, DateTimeOffset? End) validFor) => new()
    {
        ["subject"] = new JsonObject { ["organization"] = "edgeops.test", ["commonName"] = uri },
        ["uri"] = uri,
        ["certChain"] = new JsonObject
        {
            ["certificates"] = new JsonArray([.. chain.Select(c => (JsonNode)new JsonObject { ["rawBytes"] = Convert.ToBase64String(c.RawData) })]),
        },
        ["validFor"] = Window(validFor),
    };

    private static JsonObject Window((DateTimeOffset Start, DateTimeOffset? End) window)
    {
        var json = new JsonObject { ["start"] = window.Start.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) };
        if (window.End is { } end)
        {
            json["end"] = end.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        }

        return json;
    }

    /// <summary>RFC 6962 MTH over leaf hashes [start, start+count).</summary>
    private static byte[] TreeHash(List<byte[]> leaves, int start, int count)
    {
        if (count == 1)
        {
            return leaves[start];
        }

        var split = LargestPowerOfTwoBelow(count);
        return Merkle.NodeHash(TreeHash(leaves, start, split), TreeHash(leaves, start + split, count - split));
    }

    /// <summary>RFC 6962 PATH(m, D[start:start+count]).</summary>
    private static List<byte[]> InclusionPath(List<byte[]> leaves, int m, int start, int count)
    {
        if (count == 1)
        {
            return [];
        }

        var split = LargestPowerOfTwoBelow(count);
        if (m < split)
        {
            var path = InclusionPath(leaves, m, start, split);
            path.Add(TreeHash(leaves, start + split, count - split));
            return path;
        }

        var right = InclusionPath(leaves, m - split, start + split, count - split);
        right.Add(TreeHash(leaves, start, split));
        return right;
    }

    private static int LargestPowerOfTwoBelow(int n)
    {
        var k = 1;
        while (k << 1 < n)
        {
            k <<= 1;
        }

        return k;
    }
}

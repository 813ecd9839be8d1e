using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Trust.Tests.Sigstore;

/// <summary>The verification rules, each exercised on bundles from the virtual Sigstore instance.</summary>
public sealed class BundleVerifierTests : IDisposable
{
    private static readonly byte[] Artifact = Encoding.UTF8.GetBytes("robot-os 2026.11.2 rootfs\n");
    private readonly VirtualSigstore _sigstore = new();

    public void Dispose() => _sigstore.Dispose();

    [Theory]
    [InlineData("0.1")]
    [InlineData("0.2")]
    [InlineData("0.3")]
    public void Verify_MessageSignatureOfEachBundleVersion_IsVerified(string version)
    {
        var verdict = Verify(_sigstore.SignMessage(Artifact, new SignOptions { BundleVersion = version }));

        AssertVerified(verdict);
        Assert.Equal(VirtualSigstore.DefaultIdentity, verdict.Signature!.Identity);
        Assert.Equal(VirtualSigstore.DefaultIssuer, verdict.Signature.Issuer);
        Assert.Equal([_sigstore.Now], verdict.Signature.SigningTimes);
    }

    [Fact]
    public void Verify_DigestInsteadOfArtifact_IsVerified()
    {
        var bundle = _sigstore.SignMessage(Artifact);

        AssertVerified(Verifier().Verify(Encoding.UTF8.GetBytes(bundle), ArtifactInput.FromDigest("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Artifact))), Policy()));
    }

    [Fact]
    public void Verify_DsseInTotoStatementNamingTheArtifact_IsVerified()
    {
        AssertVerified(Verify(_sigstore.SignDsse(Artifact)));
    }

    [Fact]
    public void Verify_DsseForAnotherArtifact_IsRejectedAsArtifact()
    {
        var verdict = Verifier().Verify(Encoding.UTF8.GetBytes(_sigstore.SignDsse(Artifact)), ArtifactInput.FromBytes([1, 2, 3]), Policy());

        AssertRejected(BundleFailure.Artifact, verdict, "names no subject");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Verify_RekorV2EntryWithEd25519CheckpointAndTimestamp_IsVerified(bool dsse)
    {
        var options = new SignOptions { Rekor = 2, Timestamp = true, InclusionPromise = false };
        var bundle = dsse ? _sigstore.SignDsse(Artifact, options) : _sigstore.SignMessage(Artifact, options);

        var verdict = Verify(bundle);

        AssertVerified(verdict);
        Assert.Equal([_sigstore.Now], verdict.Signature!.SigningTimes);
    }

    [Fact]
    public void Verify_RekorV2WithoutTimestamp_IsRejectedForLackOfSigningTime()
    {
        var verdict = Verify(_sigstore.SignMessage(Artifact, new SignOptions { Rekor = 2, InclusionPromise = false }));

        AssertRejected(BundleFailure.SigningTime, verdict, "no verified signing time");
    }

    [Fact]
    public void Verify_WitnessCosignatureBeforeTheLogSignature_IsIgnored()
    {
        AssertVerified(Verify(_sigstore.SignMessage(Artifact, new SignOptions { Rekor = 2, Timestamp = true, InclusionPromise = false, WitnessFirst = true })));
        AssertVerified(Verify(_sigstore.SignMessage(Artifact, new SignOptions { WitnessFirst = true })));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(6, 0)]
    [InlineData(7, 0)]
    [InlineData(8, 0)]
    [InlineData(3, 4)]
    [InlineData(100, 27)]
    [InlineData(511, 512)]
    [InlineData(1000, 0)]
    public void Verify_InclusionProofAtAnyPositionOfAnyTree_IsVerified(int before, int after)
    {
        AssertVerified(Verify(_sigstore.SignMessage(Artifact, new SignOptions { LeavesBefore = before, LeavesAfter = after })));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(-1)]
    public void Verify_ProofHashFlipped_IsRejectedAsInclusionProof(int which)
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact, new SignOptions { LeavesBefore = 20, LeavesAfter = 20 }), json =>
        {
            var hashes = Proof(json)["hashes"]!.AsArray();
            var index = which < 0 ? hashes.Count - 1 : which;
            var bytes = Convert.FromBase64String(hashes[index]!.GetValue<string>());
            bytes[7] ^= 0x10;
            hashes[index] = Convert.ToBase64String(bytes);
        });

        AssertRejected(BundleFailure.InclusionProof, Verify(bundle), "does not lead");
    }

    [Fact]
    public void Verify_ProofWithAHashMissing_IsRejectedAsInclusionProof()
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact, new SignOptions { LeavesBefore = 20 }), json => Proof(json)["hashes"]!.AsArray().RemoveAt(0));

        AssertRejected(BundleFailure.InclusionProof, Verify(bundle));
    }

    [Fact]
    public void Verify_CheckpointForAnotherTree_IsRejectedAsCheckpoint()
    {
        var other = JsonNode.Parse(_sigstore.SignMessage(Artifact, new SignOptions { LeavesBefore = 9 }))!;
        var bundle = Mutate(_sigstore.SignMessage(Artifact), json => Proof(json)["checkpoint"] = Proof(other)["checkpoint"]!.DeepClone());

        AssertRejected(BundleFailure.Checkpoint, Verify(bundle), "checkpoint is for tree size");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Verify_CheckpointSignatureAltered_IsRejectedAsCheckpoint(int rekor)
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact, new SignOptions { Rekor = rekor, Timestamp = true }), json =>
        {
            var checkpoint = Proof(json)["checkpoint"]!["envelope"]!.GetValue<string>();
            var lines = checkpoint.Split('\n');
            var signatureLine = lines.Length - 2;
            var blob = Convert.FromBase64String(lines[signatureLine][(lines[signatureLine].LastIndexOf(' ') + 1)..]);
            blob[^3] ^= 1;
            lines[signatureLine] = lines[signatureLine][..(lines[signatureLine].LastIndexOf(' ') + 1)] + Convert.ToBase64String(blob);
            Proof(json)["checkpoint"]!["envelope"] = string.Join('\n', lines);
        });

        AssertRejected(BundleFailure.Checkpoint, Verify(bundle), "no valid signature of log");
    }

    [Theory]
    [InlineData(1, "rekor.elsewhere.test - 42", null, "origin 'rekor.elsewhere.test - 42' is not log rekor.virtual.test")]
    [InlineData(1, "rekor.virtual.test - ", null, "is not log rekor.virtual.test")]
    [InlineData(2, "log2027.rekor.virtual.test", null, "is not log log2026.rekor.virtual.test")]
    [InlineData(1, null, "rekor.elsewhere.test", "no valid signature of log")]
    public void Verify_CheckpointForAnotherOriginOrSignerName_IsRejectedAsCheckpoint(int rekor, string? origin, string? signer, string reason)
    {
        var bundle = _sigstore.SignMessage(Artifact, new SignOptions { Rekor = rekor, Timestamp = true, CheckpointOrigin = origin, CheckpointSigner = signer });

        AssertRejected(BundleFailure.Checkpoint, Verify(bundle), reason);
    }

    [Fact]
    public void Verify_InclusionPromiseAltered_IsRejectedAsInclusionPromise()
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact), json =>
        {
            var entry = json["verificationMaterial"]!["tlogEntries"]![0]!;
            entry["integratedTime"] = (_sigstore.Now.ToUnixTimeSeconds() + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        });

        AssertRejected(BundleFailure.InclusionPromise, Verify(bundle), "signed entry timestamp");
    }

    [Fact]
    public void Verify_V01BundleWithoutInclusionPromise_IsRejected()
    {
        AssertRejected(BundleFailure.InclusionPromise, Verify(_sigstore.SignMessage(Artifact, new SignOptions { BundleVersion = "0.1", InclusionPromise = false })));
    }

    [Fact]
    public void Verify_V02BundleWithoutInclusionProof_IsRejected()
    {
        AssertRejected(BundleFailure.InclusionProof, Verify(_sigstore.SignMessage(Artifact, new SignOptions { BundleVersion = "0.2", InclusionProof = false })));
    }

    [Theory]
    [InlineData("-1", "is negative")]
    [InlineData("1000000", "is not its inclusion proof's")]
    public void Verify_RekorV2EntryWithAnotherLogIndex_IsRejected(string logIndex, string reason)
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact, new SignOptions { Rekor = 2, Timestamp = true, InclusionPromise = false }), json =>
        {
            var entry = json["verificationMaterial"]!["tlogEntries"]![0]!;
            entry["logIndex"] = logIndex;
            Proof(json)["logIndex"] = Proof(json)["logIndex"]!.GetValue<string>();
        });

        AssertRejected(BundleFailure.TransparencyLogEntry, Verify(bundle), reason);
    }

    [Fact]
    public void Verify_EntryFromALogTheRootDoesNotName_IsRejected()
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact), json =>
            json["verificationMaterial"]!["tlogEntries"]![0]!["logId"]!["keyId"] = Convert.ToBase64String(new byte[32]));

        AssertRejected(BundleFailure.TransparencyLogEntry, Verify(bundle), "not in the trusted root");
    }

    [Fact]
    public void Verify_LoggedBodyForAnotherSignature_IsRejectedAsLogEntry()
    {
        var other = JsonNode.Parse(_sigstore.SignMessage(Artifact))!;
        var bundle = Mutate(_sigstore.SignMessage(Artifact), json => json["messageSignature"] = other["messageSignature"]!.DeepClone());

        // The other signature is by another certificate: the signature check fails before the log is consulted.
        AssertRejected(BundleFailure.Signature, Verify(bundle));
    }

    [Fact]
    public void Verify_SignatureAltered_IsRejectedAsSignature()
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact), json =>
        {
            var signature = Convert.FromBase64String(json["messageSignature"]!["signature"]!.GetValue<string>());
            signature[^2] ^= 4;
            json["messageSignature"]!["signature"] = Convert.ToBase64String(signature);
        });

        AssertRejected(BundleFailure.Signature, Verify(bundle));
    }

    [Fact]
    public void Verify_ExpiredIntermediate_IsRejectedAsCertificateChain()
    {
        using var sigstore = new VirtualSigstore(intermediateNotAfter: new DateTimeOffset(2026, 6, 1, 11, 0, 0, TimeSpan.Zero));

        var verdict = new BundleVerifier(sigstore.TrustedRoot(), new FixedClock(sigstore.Now))
            .Verify(Encoding.UTF8.GetBytes(sigstore.SignMessage(Artifact)), ArtifactInput.FromBytes(Artifact), Policy());

        AssertRejected(BundleFailure.CertificateChain, verdict, "virtual-fulcio-intermediate");
    }

    [Fact]
    public void Verify_CertificateAuthorityBackdatedOutOfTheRoot_IsRejectedAsCertificateChain()
    {
        var bundle = _sigstore.SignMessage(Artifact);
        _sigstore.CaValidFor = (_sigstore.Now.AddYears(-2), _sigstore.Now.AddDays(-1));

        AssertRejected(BundleFailure.CertificateChain, Verify(bundle), "trusted for");
    }

    [Fact]
    public void Verify_LogKeyValidityEndingExactlyAtIntegratedTime_IsVerified()
    {
        var bundle = _sigstore.SignMessage(Artifact);
        _sigstore.RekorValidFor = (_sigstore.Now.AddYears(-1), _sigstore.Now);

        AssertVerified(Verify(bundle));

        _sigstore.RekorValidFor = (_sigstore.Now.AddYears(-1), _sigstore.Now.AddSeconds(-1));
        AssertRejected(BundleFailure.TransparencyLogEntry, Verify(bundle), "outside the log key's validity");
    }

    [Fact]
    public void Verify_SignedAfterTheCertificateExpired_IsRejectedAsSigningTime()
    {
        var bundle = _sigstore.SignMessage(Artifact, new SignOptions { CertificateLifetime = TimeSpan.FromSeconds(30) });

        AssertRejected(BundleFailure.SigningTime, Verify(bundle), "outside the certificate's validity");
    }

    [Fact]
    public void Verify_IntegratedTimeInTheFuture_IsRejectedAsSigningTime()
    {
        var bundle = _sigstore.SignMessage(Artifact, new SignOptions { SignedAt = _sigstore.Now.AddHours(1) });

        AssertRejected(BundleFailure.SigningTime, Verify(bundle), "in the future");
    }

    [Fact]
    public void Verify_Precertificate_IsRejectedAsCertificateChain()
    {
        var poison = new System.Security.Cryptography.X509Certificates.X509Extension("1.3.6.1.4.1.11129.2.4.3", [0x05, 0x00], critical: true);

        AssertRejected(BundleFailure.CertificateChain, Verify(_sigstore.SignMessage(Artifact, new SignOptions { ExtraExtensions = [poison] })), "precertificate");
    }

    [Fact]
    public void Verify_UnknownCriticalExtension_IsRejectedAsCertificateChain()
    {
        var strange = new System.Security.Cryptography.X509Certificates.X509Extension("1.2.3.4.5", [0x05, 0x00], critical: true);

        AssertRejected(BundleFailure.CertificateChain, Verify(_sigstore.SignMessage(Artifact, new SignOptions { ExtraExtensions = [strange] })), "1.2.3.4.5");
    }

    [Fact]
    public void Verify_LeafWithoutDigitalSignatureUsage_IsRejectedAsCertificateChain()
    {
        var options = new SignOptions { KeyUsage = System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyEncipherment };

        AssertRejected(BundleFailure.CertificateChain, Verify(_sigstore.SignMessage(Artifact, options)), "digital signatures");
    }

    [Fact]
    public void Verify_CertificateWithoutSct_IsRejectedAsCertificateTransparency()
    {
        AssertRejected(BundleFailure.CertificateTransparency, Verify(_sigstore.SignMessage(Artifact, new SignOptions { EmbedSct = false })), "no signed certificate timestamps");
    }

    [Fact]
    public void Verify_SctFromAnUnknownCtLog_IsRejectedAsCertificateTransparency()
    {
        var bundle = _sigstore.SignMessage(Artifact);
        _sigstore.IncludeCtLog = false;

        AssertRejected(BundleFailure.CertificateTransparency, Verify(bundle), "unknown CT log");
    }

    [Fact]
    public void Verify_AnotherIdentity_IsRejectedAsIdentity()
    {
        var bundle = _sigstore.SignMessage(Artifact, new SignOptions { Identity = "mallory@example.com" });

        var verdict = Verify(bundle);

        AssertRejected(BundleFailure.Identity, verdict, "mallory@example.com");
    }

    [Fact]
    public void Verify_AnotherIssuer_IsRejectedAsIdentity()
    {
        AssertRejected(BundleFailure.Identity, Verify(_sigstore.SignMessage(Artifact, new SignOptions { Issuer = "https://accounts.google.com" })), "accounts.google.com");
    }

    [Theory]
    [InlineData("https://github\\.com/pomona/.*", "https://token\\.actions\\.githubusercontent\\.com", true)]
    [InlineData("https://github\\.com/pomona/fleet/", "https://token\\.actions\\.githubusercontent\\.com", false)]
    [InlineData(".*", "https://accounts\\.google\\.com", false)]
    public void Verify_IdentityPatterns_MatchTheWholeValue(string identity, string issuer, bool verified)
    {
        var verdict = Verifier().Verify(Encoding.UTF8.GetBytes(_sigstore.SignMessage(Artifact)), ArtifactInput.FromBytes(Artifact),
            VerificationPolicy.ForIdentity(null, identity, null, issuer));

        Assert.Equal(verified, verdict.Verified);
    }

    [Fact]
    public void Verify_KeyBasedBundle_IsVerifiedWithItsKeyAndRejectedWithAnother()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var bundle = Encoding.UTF8.GetBytes(_sigstore.SignMessage(Artifact, new SignOptions { Key = key }));

        var good = Verifier().Verify(bundle, ArtifactInput.FromBytes(Artifact), VerificationPolicy.ForKey(SigstoreKey.FromPem(key.ExportSubjectPublicKeyInfoPem())));
        var bad = Verifier().Verify(bundle, ArtifactInput.FromBytes(Artifact), VerificationPolicy.ForKey(SigstoreKey.FromPem(other.ExportSubjectPublicKeyInfoPem())));
        var byIdentity = Verifier().Verify(bundle, ArtifactInput.FromBytes(Artifact), Policy());

        AssertVerified(good);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo())), good.Signature!.KeyFingerprint);
        AssertRejected(BundleFailure.Signature, bad);
        AssertRejected(BundleFailure.VerificationMaterial, byIdentity, "--key");
    }

    [Theory]
    [InlineData("p256", false)]
    [InlineData("p384", false)]
    [InlineData("rsa3072", false)]
    [InlineData("p384", true)]
    [InlineData("rsa3072", true)]
    public void Verify_LeafKeyTypes_AreVerified(string leafKey, bool dsse)
    {
        var options = new SignOptions { LeafKey = leafKey };
        var bundle = dsse ? _sigstore.SignDsse(Artifact, options) : _sigstore.SignMessage(Artifact, options);

        AssertVerified(Verify(bundle));
        AssertVerified(Verify(dsse ? _sigstore.SignDsse(Artifact, options with { Rekor = 2, Timestamp = true }) : _sigstore.SignMessage(Artifact, options with { Rekor = 2, Timestamp = true })));
    }

    [Fact]
    public void Verify_Sha384MessageDigestByDigestOnly_CannotBeMatched()
    {
        var bundle = Encoding.UTF8.GetBytes(_sigstore.SignMessage(Artifact, new SignOptions { LeafKey = "p384" }));

        var verdict = Verifier().Verify(bundle, ArtifactInput.FromDigest("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Artifact))), Policy());

        AssertRejected(BundleFailure.Artifact, verdict, "SHA2_384 digest, which only the artifact itself can give");
    }

    [Fact]
    public void Verify_RsaKeyBasedBundle_IsVerified()
    {
        using var key = RSA.Create(3072);
        var bundle = Encoding.UTF8.GetBytes(_sigstore.SignMessage(Artifact, new SignOptions { Key = key, Rekor = 2 }));

        var verdict = Verifier().Verify(bundle, ArtifactInput.FromBytes(Artifact), VerificationPolicy.ForKey(SigstoreKey.FromPem(key.ExportSubjectPublicKeyInfoPem())));

        AssertVerified(verdict);
        Assert.Empty(verdict.Signature!.SigningTimes);
    }

    [Fact]
    public void Verify_TimestampFromATsaTheRootDoesNotName_IsRejectedEvenWithItsCertificateEmbedded()
    {
        using var stranger = VirtualSigstore.StrangerTsa(_sigstore.Now);
        var bundle = Mutate(_sigstore.SignMessage(Artifact, new SignOptions { Rekor = 2, InclusionPromise = false, Timestamp = true }), json =>
        {
            var signature = Convert.FromBase64String(json["messageSignature"]!["signature"]!.GetValue<string>());
            json["verificationMaterial"]!["timestampVerificationData"]!["rfc3161Timestamps"]![0]!["signedTimestamp"] =
                Convert.ToBase64String(_sigstore.Timestamp(signature, _sigstore.Now, stranger, embedCertificate: true));
        });

        AssertRejected(BundleFailure.Timestamp, Verify(bundle), "stranger-tsa");
    }

    [Fact]
    public void Verify_TimestampOverAnotherSignature_IsRejectedAsTimestamp()
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact, new SignOptions { Rekor = 2, InclusionPromise = false, Timestamp = true }), json =>
            json["verificationMaterial"]!["timestampVerificationData"]!["rfc3161Timestamps"]![0]!["signedTimestamp"] =
                Convert.ToBase64String(_sigstore.Timestamp([1, 2, 3], _sigstore.Now)));

        AssertRejected(BundleFailure.Timestamp, Verify(bundle), "message imprint");
    }

    [Fact]
    public void Verify_TimestampWithoutTrustedAuthority_IsRejectedAsTimestamp()
    {
        var bundle = _sigstore.SignMessage(Artifact, new SignOptions { Rekor = 2, InclusionPromise = false, Timestamp = true });
        _sigstore.IncludeTimestampAuthority = false;

        AssertRejected(BundleFailure.Timestamp, Verify(bundle), "not signed by a timestamp authority");
    }

    [Fact]
    public void Verify_TimestampOutsideTheCertificate_IsRejectedAsSigningTime()
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact, new SignOptions { Rekor = 2, InclusionPromise = false, Timestamp = true }), json =>
        {
            var signature = Convert.FromBase64String(json["messageSignature"]!["signature"]!.GetValue<string>());
            json["verificationMaterial"]!["timestampVerificationData"]!["rfc3161Timestamps"]![0]!["signedTimestamp"] =
                Convert.ToBase64String(_sigstore.Timestamp(signature, _sigstore.Now.AddHours(-3)));
        });

        AssertRejected(BundleFailure.SigningTime, Verify(bundle), "outside the certificate's validity");
    }

    [Fact]
    public void Verify_BundleChainWithTheRoot_IsRejectedAsCertificateChain()
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact, new SignOptions { BundleVersion = "0.2" }), json =>
            json["verificationMaterial"]!["x509CertificateChain"]!["certificates"]!.AsArray().Add(new JsonObject { ["rawBytes"] = Convert.ToBase64String(_sigstore.Root.RawData) }));

        AssertRejected(BundleFailure.CertificateChain, Verify(bundle), "contains a root certificate");
    }

    [Theory]
    [InlineData("application/vnd.dev.sigstore.bundle+json;version=0.4", BundleFailure.UnsupportedVersion)]
    [InlineData("application/json", BundleFailure.UnsupportedVersion)]
    [InlineData(null, BundleFailure.Malformed)]
    public void Verify_MediaTypes_AreChecked(string? mediaType, BundleFailure expected)
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact), json =>
        {
            if (mediaType is null)
            {
                json.AsObject().Remove("mediaType");
            }
            else
            {
                json["mediaType"] = mediaType;
            }
        });

        AssertRejected(expected, Verify(bundle));
    }

    [Fact]
    public void Verify_BothContentKindsOrNeither_IsMalformed()
    {
        var dsse = JsonNode.Parse(_sigstore.SignDsse(Artifact))!;
        var both = Mutate(_sigstore.SignMessage(Artifact), json => json["dsseEnvelope"] = dsse["dsseEnvelope"]!.DeepClone());
        var neither = Mutate(_sigstore.SignMessage(Artifact), json => json.AsObject().Remove("messageSignature"));

        AssertRejected(BundleFailure.Malformed, Verify(both), "exactly one of messageSignature and dsseEnvelope");
        AssertRejected(BundleFailure.Malformed, Verify(neither));
    }

    [Fact]
    public void Verify_OversizedBundle_IsRejectedBeforeParsing()
    {
        var verdict = Verifier().Verify(new byte[Bundle.MaxSize + 1], ArtifactInput.FromBytes(Artifact), Policy());

        AssertRejected(BundleFailure.Malformed, verdict, "larger than");
    }

    [Fact]
    public void Verify_ProofWithThousandsOfHashes_IsRejectedWithoutWork()
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact), json =>
        {
            var hashes = Proof(json)["hashes"]!.AsArray();
            for (var i = 0; i < 5000; i++)
            {
                hashes.Add(Convert.ToBase64String(new byte[32]));
            }
        });

        AssertRejected(BundleFailure.InclusionProof, Verify(bundle), "at most 64");
    }

    [Fact]
    public void Verify_DeeplyNestedJson_IsMalformed()
    {
        var bundle = new string('[', 10_000) + new string(']', 10_000);

        AssertRejected(BundleFailure.Malformed, Verify(bundle));
    }

    [Fact]
    public void TrustedRoot_LogWithAnUnknownKeyType_IsSkippedNotFatal()
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.3.101.113"); // Ed448
            }

            writer.WriteBitString(new byte[57]);
        }

        var root = JsonNode.Parse(_sigstore.TrustedRootJson())!;
        root["ctlogs"]!.AsArray().Add(new JsonObject
        {
            ["baseUrl"] = "https://ct.future.test",
            ["publicKey"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(writer.Encode()), ["keyDetails"] = "PKIX_ED448" },
            ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(new byte[32]) },
        });

        var parsed = TrustedRoot.Parse(root.ToJsonString());
        var verdict = new BundleVerifier(parsed, new FixedClock(_sigstore.Now)).Verify(
            Encoding.UTF8.GetBytes(_sigstore.SignMessage(Artifact)), ArtifactInput.FromBytes(Artifact), Policy());

        Assert.Single(parsed.CertificateTransparencyLogs);
        AssertVerified(verdict);
    }

    [Fact]
    public void TrustedRoot_MalformedKey_IsRejectedWithItsPath()
    {
        var root = JsonNode.Parse(_sigstore.TrustedRootJson())!;
        root["tlogs"]![1]!["publicKey"]!["rawBytes"] = Convert.ToBase64String([0x30, 0x03, 0x02, 0x01]);

        var error = Assert.Throws<FormatException>(() => TrustedRoot.Parse(root.ToJsonString()));

        Assert.StartsWith("trusted root: $.tlogs[1].publicKey.rawBytes: malformed public key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_OverlongBundleChain_IsRejectedAsMaterial()
    {
        var bundle = Mutate(_sigstore.SignMessage(Artifact, new SignOptions { BundleVersion = "0.2" }), json =>
        {
            var certificates = json["verificationMaterial"]!["x509CertificateChain"]!["certificates"]!.AsArray();
            for (var i = 0; i < 20; i++)
            {
                certificates.Add(new JsonObject { ["rawBytes"] = Convert.ToBase64String(_sigstore.Intermediate.RawData) });
            }
        });

        AssertRejected(BundleFailure.VerificationMaterial, Verify(bundle), "at most 10");
    }

    private BundleVerdict Verify(string bundle) => Verifier().Verify(Encoding.UTF8.GetBytes(bundle), ArtifactInput.FromBytes(Artifact), Policy());

    private BundleVerifier Verifier() => new(_sigstore.TrustedRoot(), new FixedClock(_sigstore.Now));

    private static VerificationPolicy Policy() => VerificationPolicy.ForIdentity(VirtualSigstore.DefaultIdentity, VirtualSigstore.DefaultIssuer);

    private static JsonNode Proof(JsonNode bundle) => bundle["verificationMaterial"]!["tlogEntries"]![0]!["inclusionProof"]!;

    private static string Mutate(string bundle, Action<JsonNode> change)
    {
        var json = JsonNode.Parse(bundle)!;
        change(json);
        return json.ToJsonString();
    }

    internal static void AssertVerified(BundleVerdict verdict) =>
        Assert.True(verdict.Verified, $"expected verified, got {verdict.Failure}: {verdict.Reason}");

    internal static void AssertRejected(BundleFailure expected, BundleVerdict verdict, string? reasonContains = null)
    {
        Assert.False(verdict.Verified, $"expected {expected}, but the bundle verified");
        Assert.True(expected == verdict.Failure, $"expected {expected}, got {verdict.Failure}: {verdict.Reason}");
        if (reasonContains is not null)
        {
            Assert.Contains(reasonContains, verdict.Reason, StringComparison.Ordinal);
        }
    }
}

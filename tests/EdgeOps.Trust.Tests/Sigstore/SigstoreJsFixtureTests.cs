using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EdgeOps.Trust.Sigstore;
using static EdgeOps.Trust.Tests.Sigstore.BundleVerifierTests;

namespace EdgeOps.Trust.Tests.Sigstore;

/// <summary>
/// Bundles made by another implementation: sigstore-js signing against @sigstore/mock's Fulcio, CT log, Rekor
/// and TSA (scripts/sigstore-fixtures/generate.mjs). They must verify, and every tampered copy must not.
/// </summary>
public sealed class SigstoreJsFixtureTests
{
    internal static readonly string Folder = Path.Combine(RepoPaths.Root, "tests", "EdgeOps.Trust.Tests", "testdata", "sigstore-js");

    public static TheoryData<string> Fixtures() => ["message-tlog", "message-tlog-tsa"];

    internal static BundleVerifier Verifier() => new(TrustedRoot.Parse(File.ReadAllText(Path.Combine(Folder, "trusted_root.json"))));

    internal static VerificationPolicy Policy() => VerificationPolicy.ForIdentity(
        File.ReadAllText(Path.Combine(Folder, "identity")).Trim(), File.ReadAllText(Path.Combine(Folder, "issuer")).Trim());

    internal static byte[] Artifact(string name) => File.ReadAllBytes(Path.Combine(Folder, name + ".txt"));

    internal static string Bundle(string name) => File.ReadAllText(Path.Combine(Folder, name + ".sigstore.json"));

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Verify_SigstoreJsBundle_IsVerifiedByPathAndByDigest(string name)
    {
        var bundle = Encoding.UTF8.GetBytes(Bundle(name));

        var byPath = Verifier().Verify(bundle, ArtifactInput.FromBytes(Artifact(name)), Policy());
        var byDigest = Verifier().Verify(bundle, ArtifactInput.FromDigest("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Artifact(name)))), Policy());

        AssertVerified(byPath);
        AssertVerified(byDigest);
        Assert.Equal("release-bot@pomona-robotics.example", byPath.Signature!.Identity);
        Assert.Equal(name.EndsWith("-tsa", StringComparison.Ordinal) ? 2 : 1, byPath.Signature.SigningTimes.Count);
    }

    [Theory]
    [InlineData("message-tlog", "signature", BundleFailure.Signature)]
    [InlineData("message-tlog", "certificate", BundleFailure.TransparencyLogEntry)]
    [InlineData("message-tlog", "log body", BundleFailure.TransparencyLogEntry)]
    [InlineData("message-tlog", "inclusion promise", BundleFailure.InclusionPromise)]
    [InlineData("message-tlog", "checkpoint", BundleFailure.Checkpoint)]
    [InlineData("message-tlog", "integrated time", BundleFailure.InclusionPromise)]
    [InlineData("message-tlog-tsa", "timestamp", BundleFailure.Timestamp)]
    [InlineData("message-tlog-tsa", "signature", BundleFailure.Signature)]
    public void Verify_TamperedSigstoreJsBundle_IsRejectedForWhatWasTamperedWith(string name, string part, BundleFailure expected)
    {
        var json = JsonNode.Parse(Bundle(name))!;
        var material = json["verificationMaterial"]!;
        var entry = material["tlogEntries"]![0]!;
        switch (part)
        {
            case "signature":
                json["messageSignature"]!["signature"] = FlipByte(json["messageSignature"]!["signature"]!, -3);
                break;
            case "certificate":
                // Another certificate from the same CA would still chain; the log recorded this one.
                material["x509CertificateChain"]!["certificates"]![0]!["rawBytes"] = FlipByte(material["x509CertificateChain"]!["certificates"]![0]!["rawBytes"]!, -2);
                break;
            case "log body":
                var body = JsonNode.Parse(Convert.FromBase64String(entry["canonicalizedBody"]!.GetValue<string>()))!;
                body["spec"]!["signature"]!["content"] = FlipByte(body["spec"]!["signature"]!["content"]!, -3);
                entry["canonicalizedBody"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(body.ToJsonString()));
                break;
            case "inclusion promise":
                entry["inclusionPromise"]!["signedEntryTimestamp"] = FlipByte(entry["inclusionPromise"]!["signedEntryTimestamp"]!, -4);
                break;
            case "checkpoint":
                var checkpoint = entry["inclusionProof"]!["checkpoint"]!["envelope"]!.GetValue<string>();
                var lines = checkpoint.Split('\n');
                lines[1] = (long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                entry["inclusionProof"]!["checkpoint"]!["envelope"] = string.Join('\n', lines);
                break;
            case "integrated time":
                entry["integratedTime"] = (long.Parse(entry["integratedTime"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) - 60)
                    .ToString(System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "timestamp":
                var timestamp = material["timestampVerificationData"]!["rfc3161Timestamps"]![0]!;
                timestamp["signedTimestamp"] = FlipByte(timestamp["signedTimestamp"]!, -5);
                break;
        }

        var verdict = Verifier().Verify(Encoding.UTF8.GetBytes(json.ToJsonString()), ArtifactInput.FromBytes(Artifact(name)), Policy());

        AssertRejected(expected, verdict);
    }

    [Fact]
    public void Verify_SigstoreJsBundleWithAnotherIdentity_IsRejectedAsIdentity()
    {
        var verdict = Verifier().Verify(Encoding.UTF8.GetBytes(Bundle("message-tlog")), ArtifactInput.FromBytes(Artifact("message-tlog")),
            VerificationPolicy.ForIdentity("someone-else@pomona-robotics.example", "https://oauth2.sigstore.dev/auth"));

        AssertRejected(BundleFailure.Identity, verdict, "release-bot@pomona-robotics.example");
    }

    [Fact]
    public void Verify_SigstoreJsBundleAgainstThePublicGoodRoot_IsRejected()
    {
        var verdict = new BundleVerifier(TrustedRoot.PublicGood).Verify(Encoding.UTF8.GetBytes(Bundle("message-tlog")), ArtifactInput.FromBytes(Artifact("message-tlog")), Policy());

        AssertRejected(BundleFailure.TransparencyLogEntry, verdict, "not in the trusted root");
    }

    private static string FlipByte(JsonNode base64, int index)
    {
        var bytes = Convert.FromBase64String(base64.GetValue<string>());
        bytes[index < 0 ? bytes.Length + index : index] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }
}

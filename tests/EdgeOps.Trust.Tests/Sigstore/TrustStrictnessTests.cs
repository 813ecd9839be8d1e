using System.Text;
using System.Text.Json.Nodes;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Trust.Tests.Sigstore;

/// <summary>Trusted roots, bundles and checkpoints are read strictly: what is malformed is refused, never read generously.</summary>
public sealed class TrustStrictnessTests : IDisposable
{
    private static readonly byte[] Artifact = Encoding.UTF8.GetBytes("robot-os 2026.11.2 rootfs\n");
    private readonly VirtualSigstore _sigstore = new();

    public void Dispose() => _sigstore.Dispose();

    [Theory]
    [InlineData("certificateAuthorities")]
    [InlineData("tlogs")]
    [InlineData("ctlogs")]
    [InlineData("timestampAuthorities")]
    public void TrustedRoot_ValidForWithoutStart_IsMalformed(string list)
    {
        var root = JsonNode.Parse(_sigstore.TrustedRootJson())!;
        var entry = root[list]![0]!;
        var window = (list is "tlogs" or "ctlogs" ? entry["publicKey"]! : entry)["validFor"]!.AsObject();
        window.Remove("start");

        var error = Assert.Throws<FormatException>(() => TrustedRoot.Parse(root.ToJsonString()));

        Assert.Contains("validFor has no start", error.Message, StringComparison.Ordinal);
        Assert.Contains($"$.{list}[0]", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("certificateAuthorities")]
    [InlineData("tlogs")]
    [InlineData("ctlogs")]
    [InlineData("timestampAuthorities")]
    public void TrustedRoot_WithoutValidFor_IsMalformed(string list)
    {
        var root = JsonNode.Parse(_sigstore.TrustedRootJson())!;
        var entry = root[list]![0]!;
        (list is "tlogs" or "ctlogs" ? entry["publicKey"]! : entry).AsObject().Remove("validFor");

        var error = Assert.Throws<FormatException>(() => TrustedRoot.Parse(root.ToJsonString()));

        Assert.Contains("has no validFor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrustedRoot_LogWithAnUnknownHashAlgorithm_IsMalformed()
    {
        var root = JsonNode.Parse(_sigstore.TrustedRootJson())!;
        root["tlogs"]![0]!["hashAlgorithm"] = "MD5";

        var error = Assert.Throws<FormatException>(() => TrustedRoot.Parse(root.ToJsonString()));

        Assert.Contains("hashAlgorithm 'MD5' is not a hash this verifier knows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrustedRoot_OneLogIdForTwoKeys_IsMalformed()
    {
        var root = JsonNode.Parse(_sigstore.TrustedRootJson())!;
        var logs = root["tlogs"]!.AsArray();
        var impostor = logs[0]!.DeepClone();
        impostor["publicKey"]!["rawBytes"] = root["ctlogs"]![0]!["publicKey"]!["rawBytes"]!.DeepClone();
        impostor["publicKey"]!["keyDetails"] = root["ctlogs"]![0]!["publicKey"]!["keyDetails"]!.DeepClone();
        logs.Add(impostor);

        var error = Assert.Throws<FormatException>(() => TrustedRoot.Parse(root.ToJsonString()));

        Assert.Contains("a log ID must name one key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrustedRoot_TheSameLogListedTwice_IsAccepted()
    {
        var root = JsonNode.Parse(_sigstore.TrustedRootJson())!;
        root["tlogs"]!.AsArray().Add(root["tlogs"]![0]!.DeepClone());

        Assert.NotNull(TrustedRoot.Parse(root.ToJsonString()));
    }

    [Fact]
    public void Bundle_WithADuplicateKey_IsMalformed()
    {
        var bundle = _sigstore.SignMessage(Artifact);
        var duplicated = bundle.Replace("\"mediaType\":", "\"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\", \"mediaType\":", StringComparison.Ordinal);
        Assert.NotEqual(bundle, duplicated);

        BundleVerifierTests.AssertRejected(BundleFailure.Malformed, Verify(duplicated));
        BundleVerifierTests.AssertRejected(BundleFailure.Malformed, Verify(bundle.Replace("\"kindVersion\":", "\"kindVersion\": {}, \"kindVersion\":", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("no final newline")]
    [InlineData("blank line")]
    [InlineData("repeated signature")]
    public void Checkpoint_NotInTheSignedNoteForm_IsRejected(string fault)
    {
        var json = JsonNode.Parse(_sigstore.SignMessage(Artifact))!;
        var checkpoint = json["verificationMaterial"]!["tlogEntries"]![0]!["inclusionProof"]!["checkpoint"]!;
        var envelope = checkpoint["envelope"]!.GetValue<string>();
        var lines = envelope.TrimEnd('\n').Split('\n');
        checkpoint["envelope"] = fault switch
        {
            "no final newline" => envelope.TrimEnd('\n'),
            "blank line" => envelope + "\n",
            _ => envelope + lines[^1] + "\n",
        };

        BundleVerifierTests.AssertRejected(BundleFailure.Checkpoint, Verify(json.ToJsonString()), fault switch
        {
            "no final newline" => "does not end with a newline",
            "blank line" => "blank line among its signature lines",
            _ => "repeats a signature line",
        });
    }

    private BundleVerdict Verify(string bundle) =>
        new BundleVerifier(_sigstore.TrustedRoot(), new FixedClock(_sigstore.Now))
            .Verify(Encoding.UTF8.GetBytes(bundle), ArtifactInput.FromBytes(Artifact), VerificationPolicy.ForIdentity(VirtualSigstore.DefaultIdentity, VirtualSigstore.DefaultIssuer));
}

using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

/// <summary>
/// <c>edgeops validate</c> on signed upgrade artifacts: the example fleet's UpgradePlan bundle (made by
/// sigstore-js on a mocked Sigstore instance) verified against the fleet's identities and trusted root.
/// </summary>
public sealed partial class ArtifactSignatureValidationTests : IDisposable
{
    private const string Identity = "release-bot@pomona-robotics.example";
    private const string Issuer = "https://oauth2.sigstore.dev/auth";
    private static readonly string Example = RepoPaths.ExampleFleet;
    private readonly TempFleet _fleet = new();
    private readonly string _digest = DigestLine().Match(File.ReadAllText(Path.Combine(Example, "upgrades", "robot-os-2026-11.yaml"))).Groups[1].Value;

    public ArtifactSignatureValidationTests()
    {
        _fleet.Write("trust/sigstore-trusted-root.json", File.ReadAllText(Path.Combine(Example, "trust", "sigstore-trusted-root.json")));
        _fleet.Write("upgrades/os.sigstore.json", File.ReadAllText(Path.Combine(Example, "upgrades", "robot-os-2026-11.sigstore.json")));
    }

    public void Dispose() => _fleet.Dispose();

    [Fact]
    public async Task Validate_BundleSignedByTheFleetsIdentity_IsValid()
    {
        WriteFleet(Identity);
        WritePlan(_digest);

        var result = await Validate();

        Assert.True(result.ExitCode == 0, result.Out);
        Assert.DoesNotContain("EO700", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_TamperedBundle_IsRejectedAtTheBundleLine()
    {
        WriteFleet(Identity);
        WritePlan(_digest);
        var bundle = JsonNode.Parse(File.ReadAllText(Path.Combine(_fleet.Root, "upgrades", "os.sigstore.json")))!;
        var signature = Convert.FromBase64String(bundle["messageSignature"]!["signature"]!.GetValue<string>());
        signature[^4] ^= 1;
        bundle["messageSignature"]!["signature"] = Convert.ToBase64String(signature);
        _fleet.Write("upgrades/os.sigstore.json", bundle.ToJsonString());

        var result = await Validate();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("upgrades/os.yaml:11:13: error EO7005: UpgradePlan 'os': the bundle does not prove artifact sha256:", result.Out, StringComparison.Ordinal);
        Assert.Contains("(signature): the signature does not verify", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_PlanPinningAnotherDigest_IsRejected()
    {
        WriteFleet(Identity);
        WritePlan("sha256:" + new string('a', 64));

        var result = await Validate();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error EO7005: UpgradePlan 'os': the bundle does not prove artifact sha256:aaaa", result.Out, StringComparison.Ordinal);
        Assert.Contains("(artifact)", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_BundleSignedBySomeoneElse_IsRejectedAsIdentity()
    {
        WriteFleet("ops@pomona-robotics.example");
        WritePlan(_digest);

        var result = await Validate();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error EO7005", result.Out, StringComparison.Ordinal);
        Assert.Contains("(identity): the certificate's identity is release-bot@pomona-robotics.example, expected ops@pomona-robotics.example", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_IdentityPattern_AcceptsTheSigner()
    {
        _fleet.Write("fleet.yaml", TempFleet.FleetYaml + $"spec:\n  trust:\n    sigstore:\n      trustedRoot: trust/sigstore-trusted-root.json\n      identities:\n        - issuer: {Issuer}\n          subjectRegExp: '.*@pomona-robotics\\.example'\n");
        WritePlan(_digest);

        var result = await Validate();

        Assert.True(result.ExitCode == 0, result.Out);
    }

    [Fact]
    public async Task Validate_BundleWithoutIdentities_IsUnverifiable()
    {
        WritePlan(_digest);

        var result = await Validate();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("upgrades/os.yaml:11:13: error EO7004: UpgradePlan 'os': the bundle cannot be verified because spec.trust.sigstore.identities names no signer", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_UnsignedArtifact_IsAnErrorWhenTheFleetNamesSignersAndAWarningOtherwise()
    {
        WritePlan(_digest, bundle: false);
        var warning = await Validate();
        WriteFleet(Identity);
        var error = await Validate();

        Assert.Equal(0, warning.ExitCode);
        Assert.Contains("upgrades/os.yaml:10:13: warning EO7003: UpgradePlan 'os': the artifact has no Sigstore bundle", warning.Out, StringComparison.Ordinal);
        Assert.Equal(1, error.ExitCode);
        Assert.Contains("upgrades/os.yaml:10:13: error EO7003", error.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_Sha512Digest_CannotBeMatchedToASigstoreBundle()
    {
        WriteFleet(Identity);
        WritePlan("sha512:" + new string('b', 128));

        var result = await Validate();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("upgrades/os.yaml:10:13: error EO7004: UpgradePlan 'os': Sigstore signs SHA-256 digests", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_UnreadableTrustedRoot_IsALocatedError()
    {
        WriteFleet(Identity);
        WritePlan(_digest);
        _fleet.Write("trust/sigstore-trusted-root.json", "{\"tlogs\": [{\"publicKey\": {\"rawBytes\": \"AAAA\"}, \"logId\": {\"keyId\": \"AA==\"}}]}");

        var result = await Validate();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("fleet.yaml:8:20: error EO7006: trust/sigstore-trusted-root.json: trusted root: $.tlogs[0].publicKey.rawBytes: malformed public key", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("EO7005", result.Out, StringComparison.Ordinal);
    }

    private Task<CliResult> Validate() => CliRunner.RunAsync("validate", _fleet.Root);

    private void WriteFleet(string identity) => _fleet.Write("fleet.yaml", TempFleet.FleetYaml +
        $"spec:\n  trust:\n    sigstore:\n      trustedRoot: trust/sigstore-trusted-root.json\n      identities:\n        - issuer: {Issuer}\n          subject: {identity}\n");

    private void WritePlan(string digest, bool bundle = true) => _fleet.Write("upgrades/os.yaml", $"""
        apiVersion: edgeops.io/v1alpha1
        kind: UpgradePlan
        metadata:
          name: os
        spec:
          component: os
          version: "2026.11.2"
          artifact:
            url: https://artifacts.example/rootfs.raucb
            digest: {digest}
        {(bundle ? "    bundle: upgrades/os.sigstore.json" : "")}
          slots:
            backend: rauc

        """);

    [GeneratedRegex(@"digest: (sha256:[0-9a-f]{64})")]
    private static partial Regex DigestLine();
}

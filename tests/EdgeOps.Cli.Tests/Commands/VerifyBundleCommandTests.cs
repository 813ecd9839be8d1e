using System.Text.Json;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

/// <summary><c>edgeops verify-bundle</c>'s outputs and its bad inputs, on a bundle made by sigstore-js.</summary>
public sealed class VerifyBundleCommandTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(RepoPaths.Root, "tests", "EdgeOps.Trust.Tests", "testdata", "sigstore-js");
    private static readonly string Bundle = Path.Combine(Fixtures, "message-tlog-tsa.sigstore.json");
    private static readonly string Artifact = Path.Combine(Fixtures, "message-tlog-tsa.txt");
    private static readonly string Root = Path.Combine(Fixtures, "trusted_root.json");
    private readonly string _temp = Directory.CreateTempSubdirectory("edgeops-verify-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task VerifyBundle_Valid_PrintsTheSignerAndExitsZero()
    {
        var result = await Run(Artifact);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("verified: release-bot@pomona-robotics.example (issuer https://oauth2.sigstore.dev/auth), signed at ", result.Out, StringComparison.Ordinal);
        Assert.Empty(result.Error);
    }

    [Fact]
    public async Task VerifyBundle_JsonOutput_CarriesTheVerdict()
    {
        var good = await Run(Artifact, "-o", "json");
        var bad = await Run("sha256:" + new string('0', 64), "-o", "json");

        using var goodJson = JsonDocument.Parse(good.Out);
        using var badJson = JsonDocument.Parse(bad.Out);
        Assert.True(goodJson.RootElement.GetProperty("verified").GetBoolean());
        Assert.Equal("release-bot@pomona-robotics.example", goodJson.RootElement.GetProperty("identity").GetString());
        Assert.Equal(2, goodJson.RootElement.GetProperty("signingTimes").GetArrayLength());
        Assert.Equal(1, bad.ExitCode);
        Assert.False(badJson.RootElement.GetProperty("verified").GetBoolean());
        Assert.Equal("artifact", badJson.RootElement.GetProperty("failure").GetString());
        Assert.Contains("bundle rejected (artifact): ", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBundle_RegexIdentity_IsAccepted()
    {
        var result = await CliRunner.RunAsync("verify-bundle", "--bundle", Bundle, "--trusted-root", Root,
            "--certificate-identity-regexp", "release-.*@pomona-robotics\\.example", "--certificate-oidc-issuer-regexp", "https://oauth2\\.sigstore\\.dev/.*", Artifact);

        Assert.True(result.ExitCode == 0, result.Error);
    }

    [Fact]
    public async Task VerifyBundle_MissingBundleFile_IsAnInputError()
    {
        var result = await CliRunner.RunAsync("verify-bundle", "--bundle", Path.Combine(_temp, "nope.json"), "--trusted-root", Root,
            "--certificate-identity", "x", "--certificate-oidc-issuer", "y", Artifact);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"edgeops: {Path.Combine(_temp, "nope.json")}: bundle file not found\n", result.Error.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Fact]
    public async Task VerifyBundle_MissingArtifact_IsAnInputError()
    {
        var result = await Run(Path.Combine(_temp, "artifact.bin"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("artifact file not found", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("sha256:ZZ" + "00000000000000000000000000000000000000000000000000000000000000")]
    public async Task VerifyBundle_MalformedDigest_IsAnInputError(string digest)
    {
        var result = await Run(digest);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is not a digest of the form sha256:<64 hex digits>", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBundle_MalformedTrustedRoot_NamesTheFileAndField()
    {
        var root = Path.Combine(_temp, "root.json");
        File.WriteAllText(root, "{\"certificateAuthorities\": [{\"certChain\": {\"certificates\": [{\"rawBytes\": \"AAAA\"}]}}]}");

        var result = await CliRunner.RunAsync("verify-bundle", "--bundle", Bundle, "--trusted-root", root,
            "--certificate-identity", "x", "--certificate-oidc-issuer", "y", Artifact);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{root}: trusted root: $.certificateAuthorities[0].certChain.certificates[0]: malformed certificate", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBundle_MalformedBundle_IsRejectedWithTheParseError()
    {
        var bundle = Path.Combine(_temp, "bundle.json");
        File.WriteAllText(bundle, File.ReadAllText(Bundle)[..200]);

        var result = await CliRunner.RunAsync("verify-bundle", "--bundle", bundle, "--trusted-root", Root,
            "--certificate-identity", "x", "--certificate-oidc-issuer", "y", Artifact);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("bundle rejected (malformed): bundle is not valid JSON", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBundle_NoIdentityNorKey_IsAUsageError()
    {
        var result = await CliRunner.RunAsync("verify-bundle", "--bundle", Bundle, Artifact);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("give --certificate-identity or --certificate-identity-regexp (or --key for a key-based bundle)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBundle_KeyAndIdentityTogether_IsAUsageError()
    {
        var key = Path.Combine(_temp, "key.pub");
        File.WriteAllText(key, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");

        var result = await CliRunner.RunAsync("verify-bundle", "--bundle", Bundle, "--key", key, "--certificate-identity", "x", "--certificate-oidc-issuer", "y", Artifact);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("give either --key or the certificate identity options, not both", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBundle_InvalidIdentityPattern_IsAUsageError()
    {
        var result = await CliRunner.RunAsync("verify-bundle", "--bundle", Bundle, "--trusted-root", Root,
            "--certificate-identity-regexp", "release-(", "--certificate-oidc-issuer", "y", Artifact);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("invalid identity pattern", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBundle_CertificateBundleCheckedWithAKey_IsRejectedAsMaterial()
    {
        var key = Path.Combine(_temp, "key.pub");
        using (var ecdsa = System.Security.Cryptography.ECDsa.Create())
        {
            File.WriteAllText(key, ecdsa.ExportSubjectPublicKeyInfoPem());
        }

        var result = await CliRunner.RunAsync("verify-bundle", "--bundle", Bundle, "--trusted-root", Root, "--key", key, Artifact);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("bundle rejected (verification-material): a key was given but the bundle is signed with a certificate", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBundle_KeyFileThatIsNoKey_IsRejectedAsMaterial()
    {
        var key = Path.Combine(_temp, "key.pub");
        File.WriteAllText(key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n");

        var result = await CliRunner.RunAsync("verify-bundle", "--bundle", Bundle, "--trusted-root", Root, "--key", key, Artifact);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not a usable PEM public key", result.Error, StringComparison.Ordinal);
    }

    private static Task<CliResult> Run(string artifact, params string[] extra) => CliRunner.RunAsync(
        [
            "verify-bundle", "--bundle", Bundle, "--trusted-root", Root,
            "--certificate-identity", "release-bot@pomona-robotics.example", "--certificate-oidc-issuer", "https://oauth2.sigstore.dev/auth",
            .. extra, artifact,
        ]);
}

using System.Security.Cryptography;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

/// <summary>
/// Sigstore's conformance cases (../shared/testdata/sigstore-conformance, from sigstore/sigstore-conformance),
/// run through <c>edgeops verify-bundle</c> with the suite's own command line, once with the artifact's path and
/// once with its sha256 digest. Passing cases must exit 0; failing cases must be rejected for the reason their
/// README gives, which the table below names as the verifier's failure category.
/// </summary>
public sealed class VerifyBundleConformanceTests
{
    private const string DefaultIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    private const string DefaultIssuer = "https://token.actions.githubusercontent.com";

    private static readonly string Cases = GroundTruth.Folder("sigstore-conformance", "bundle-verify");

    /// <summary>The sigstore-conformance bundle-verify cases in ../shared, each run by path and by digest.</summary>
    private const int CaseCount = 37;

    /// <summary>Each failing case's README, reduced to the step that must reject it.</summary>
    private static readonly Dictionary<string, string> ExpectedReasons = new(StringComparer.Ordinal)
    {
        ["bundle-empty-certificate-chain_fail"] = "verification-material", // empty certificate chain
        ["bundle-malformed-json_fail"] = "malformed", // truncated JSON: a parse error
        ["bundle-unknown-version_fail"] = "unsupported-version",
        ["bundle-with-root-cert_fail"] = "certificate-chain", // the chain contains a root certificate
        ["checkpoint-wrong-roothash_fail"] = "checkpoint", // checkpoint does not apply to this bundle
        ["dsse-invalid-sig_fail"] = "signature",
        ["dsse-mismatch-envelope_fail"] = "transparency-log-entry", // envelope does not match the entry
        ["inclusion-proof-corrupted-hash_fail"] = "inclusion-proof",
        ["integrated-time-in-future_fail"] = "signing-time", // integrated time outside the certificate's validity
        ["intoto-expired-certificate_fail"] = "signing-time", // the certificate is not valid when it was used
        ["intoto-missing-inclusion-proof_fail"] = "inclusion-proof",
        ["intoto-tsa-timestamp-outside-cert-validity_fail"] = "signing-time",
        ["managed-key-wrong-key_fail"] = "verification-material", // the key given cannot verify this bundle
        ["message-digest-mismatch_fail"] = "artifact",
        ["rekor2-checkpoint-missing-log-signature_fail"] = "checkpoint",
        ["rekor2-checkpoint-missing-origin_fail"] = "checkpoint",
        ["rekor2-dsse-invalid-sig_fail"] = "signature",
        ["rekor2-no-inclusion-proof_fail"] = "inclusion-proof",
        ["rekor2-timestamp-outside-tsa-cert-validity_fail"] = "timestamp",
        ["rekor2-timestamp-payload-mismatch_fail"] = "timestamp",
        ["rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail"] = "timestamp",
        ["set-invalid-signature_fail"] = "inclusion-promise",
        ["signature-mismatch_fail"] = "signature",
        ["wrong-hashedrekord-artifact_fail"] = "artifact", // the log entry is for another artifact
        ["wrong-material_fail"] = "artifact", // the artifact is not the one signed
    };

    public static TheoryData<string, bool> Folders()
    {
        var data = new TheoryData<string, bool>();
        if (!Directory.Exists(Cases))
        {
            data.Add("missing", false);
            return data;
        }

        foreach (var folder in Directory.EnumerateDirectories(Cases).Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            data.Add(folder!, false);
            data.Add(folder!, true);
        }

        return data;
    }

    [SkippableFact]
    public void ConformanceCases_AreAllThere_ByPathAndByDigest()
    {
        Skip.IfNot(GroundTruth.Present(Cases), $"the sigstore-conformance cases are not at {Cases}");

        Assert.Equal(CaseCount, Directory.EnumerateDirectories(Cases).Count());
        Assert.Equal(CaseCount * 2, Folders().Count);
    }

    [SkippableTheory]
    [MemberData(nameof(Folders))]
    public async Task VerifyBundle_ConformanceCase_IsJudgedAsSigstoreClientsJudgeIt(string name, bool byDigest)
    {
        Skip.IfNot(GroundTruth.Present(Cases), $"the sigstore-conformance cases are not at {Cases} (they come with ../shared beside the checkout)");
        var folder = Path.Combine(Cases, name);
        var artifact = File.Exists(Path.Combine(folder, "artifact")) ? Path.Combine(folder, "artifact") : Path.Combine(Cases, "a.txt");
        var args = new List<string> { "verify-bundle", "--bundle", Path.Combine(folder, "bundle.sigstore.json") };
        if (File.Exists(Path.Combine(folder, "key.pub")))
        {
            args.AddRange(["--key", Path.Combine(folder, "key.pub")]);
        }
        else
        {
            args.AddRange(["--certificate-identity", Read(folder, "identity") ?? DefaultIdentity, "--certificate-oidc-issuer", Read(folder, "issuer") ?? DefaultIssuer]);
        }

        if (File.Exists(Path.Combine(folder, "trusted_root.json")))
        {
            args.AddRange(["--trusted-root", Path.Combine(folder, "trusted_root.json")]);
        }

        args.Add(byDigest ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(artifact))) : artifact);

        var result = await CliRunner.RunAsync([.. args]);

        if (!name.EndsWith("_fail", StringComparison.Ordinal))
        {
            Assert.True(result.ExitCode == 0, $"{name} should verify, but: {result.Error}");
            Assert.StartsWith("verified: ", result.Out, StringComparison.Ordinal);
            return;
        }

        Assert.True(ExpectedReasons.TryGetValue(name, out var reason), $"new failing case {name}: read its README and add the reason it must be rejected for");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"bundle rejected ({reason}): ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    private static string? Read(string folder, string file) =>
        File.Exists(Path.Combine(folder, file)) ? File.ReadAllText(Path.Combine(folder, file)).Trim() : null;
}

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Bench;

/// <summary>
/// Time to verify one Sigstore bundle in-process after warm-up (target ≤ 5 ms), per kind of bundle, against a
/// baseline measured in the same run: parsing the bundle's JSON and one ECDSA P-256 verification, the least any
/// verifier must do.
/// </summary>
internal static class BundleVerifyBenchmark
{
    private const string ConformanceIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    private const string ConformanceIssuer = "https://token.actions.githubusercontent.com";

    public static int Run(string repoRoot, int iterations, int batches)
    {
        var cases = new List<(string Name, byte[] Bundle, ArtifactInput Artifact, BundleVerifier Verifier, VerificationPolicy Policy)>();
        var js = Path.Combine(repoRoot, "tests", "EdgeOps.Trust.Tests", "testdata", "sigstore-js");
        var jsRoot = TrustedRoot.Parse(File.ReadAllText(Path.Combine(js, "trusted_root.json")));
        var jsPolicy = VerificationPolicy.ForIdentity(File.ReadAllText(Path.Combine(js, "identity")).Trim(), File.ReadAllText(Path.Combine(js, "issuer")).Trim());
        foreach (var name in new[] { "message-tlog", "message-tlog-tsa" })
        {
            cases.Add(($"sigstore-js {name} (v0.2)", File.ReadAllBytes(Path.Combine(js, name + ".sigstore.json")),
                ArtifactInput.FromBytes(File.ReadAllBytes(Path.Combine(js, name + ".txt"))), new BundleVerifier(jsRoot), jsPolicy));
        }

        var conformance = Path.Combine(repoRoot, "..", "shared", "testdata", "sigstore-conformance", "bundle-verify");
        if (Directory.Exists(conformance))
        {
            var artifact = ArtifactInput.FromBytes(File.ReadAllBytes(Path.Combine(conformance, "a.txt")));
            var policy = VerificationPolicy.ForIdentity(ConformanceIdentity, ConformanceIssuer);
            foreach (var (name, label) in new[]
            {
                ("happy-path-v0.3", "public-good v0.3, Rekor v1"),
                ("rekor2-happy-path", "Rekor v2, Ed25519 checkpoint, TSA"),
                ("happy-path-intoto-in-dsse-v3", "DSSE in-toto, Rekor v1"),
            })
            {
                var folder = Path.Combine(conformance, name);
                var root = File.Exists(Path.Combine(folder, "trusted_root.json"))
                    ? TrustedRoot.Parse(File.ReadAllText(Path.Combine(folder, "trusted_root.json")))
                    : TrustedRoot.PublicGood;
                cases.Add((label, File.ReadAllBytes(Path.Combine(folder, "bundle.sigstore.json")), artifact, new BundleVerifier(root), policy));
            }
        }
        else
        {
            Console.WriteLine($"(conformance bundles not found at {conformance}; measuring the sigstore-js ones only)");
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var digest = SHA256.HashData("baseline"u8);
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);

        Console.WriteLine($"{"bundle",-40} {"first (cold)",13} {"median",10} {"baseline median",17}");
        foreach (var (name, bundle, artifact, verifier, policy) in cases)
        {
            var cold = Stopwatch.StartNew();
            Check(name, verifier.Verify(bundle, artifact, policy));
            var first = cold.Elapsed.TotalMilliseconds;
            for (var i = 0; i < 50; i++)
            {
                Check(name, verifier.Verify(bundle, artifact, policy));
            }

            var samples = Measure(batches, iterations, () => Check(name, verifier.Verify(bundle, artifact, policy)));
            var baseline = Measure(batches, iterations, () =>
            {
                using var document = JsonDocument.Parse(bundle);
                if (!key.VerifyHash(digest, signature, DSASignatureFormat.Rfc3279DerSequence))
                {
                    throw new InvalidOperationException("baseline signature did not verify");
                }
            });
            Console.WriteLine($"{name,-40} {first,10:F2} ms {Median(samples),7:F3} ms {Median(baseline),14:F3} ms");
        }

        Console.WriteLine($"({batches} batches of {iterations} verifications after 50 warm-up; baseline: JSON parse + one ECDSA P-256 verify)");
        return 0;
    }

    private static List<double> Measure(int batches, int iterations, Action action)
    {
        var samples = new List<double>();
        for (var b = 0; b < batches; b++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < iterations; i++)
            {
                action();
            }

            samples.Add(watch.Elapsed.TotalMilliseconds / iterations);
        }

        return samples;
    }

    private static void Check(string name, BundleVerdict verdict)
    {
        if (!verdict.Verified)
        {
            throw new InvalidOperationException($"{name}: {verdict.Reason}");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

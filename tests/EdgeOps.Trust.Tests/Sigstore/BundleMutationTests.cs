using System.Text;
using System.Text.Json.Nodes;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Trust.Tests.Sigstore;

/// <summary>
/// Robustness: 1,000 random mutations (bytes of the JSON text, and JSON fields replaced, removed or blown up)
/// of valid bundles from sigstore-js and from the virtual Sigstore. Each must come back as a verdict — rejected,
/// or verified when the mutation touched nothing that is signed — and never as an exception.
/// </summary>
public sealed class BundleMutationTests
{
    private const int Mutations = 1000;

    [Fact]
    public void Verify_ThousandMutatedBundles_AlwaysReturnsAVerdict()
    {
        using var sigstore = new VirtualSigstore();
        var artifact = Encoding.UTF8.GetBytes("robot-os rootfs\n");
        var virtualVerifier = new BundleVerifier(sigstore.TrustedRoot(), new FixedClock(sigstore.Now));
        var virtualPolicy = VerificationPolicy.ForIdentity(VirtualSigstore.DefaultIdentity, VirtualSigstore.DefaultIssuer);
        var sources = new List<(string Bundle, BundleVerifier Verifier, ArtifactInput Artifact, VerificationPolicy Policy)>
        {
            (SigstoreJsFixtureTests.Bundle("message-tlog-tsa"), SigstoreJsFixtureTests.Verifier(),
                ArtifactInput.FromBytes(SigstoreJsFixtureTests.Artifact("message-tlog-tsa")), SigstoreJsFixtureTests.Policy()),
            (sigstore.SignMessage(artifact, new SignOptions { Rekor = 2, Timestamp = true, InclusionPromise = false }), virtualVerifier, ArtifactInput.FromBytes(artifact), virtualPolicy),
            (sigstore.SignDsse(artifact), virtualVerifier, ArtifactInput.FromBytes(artifact), virtualPolicy),
        };

        // Production bundles too, where Sigstore's conformance cases are at hand (they are not needed).
        var conformance = Path.Combine(RepoPaths.Root, "..", "shared", "testdata", "sigstore-conformance", "bundle-verify");
        if (Directory.Exists(conformance))
        {
            var policy = VerificationPolicy.ForIdentity(
                "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
                "https://token.actions.githubusercontent.com");
            var a = ArtifactInput.FromBytes(File.ReadAllBytes(Path.Combine(conformance, "a.txt")));
            sources.Add((File.ReadAllText(Path.Combine(conformance, "happy-path-v0.1", "bundle.sigstore.json")), new BundleVerifier(TrustedRoot.PublicGood), a, policy));
            sources.Add((File.ReadAllText(Path.Combine(conformance, "rekor2-happy-path", "bundle.sigstore.json")),
                new BundleVerifier(TrustedRoot.Parse(File.ReadAllText(Path.Combine(conformance, "rekor2-happy-path", "trusted_root.json")))), a, policy));
        }

        var random = new Random(20261128);
        var outcomes = new Dictionary<BundleFailure, int>();
        for (var i = 0; i < Mutations; i++)
        {
            var source = sources[i % sources.Count];
            var mutated = i % 2 == 0 ? MutateBytes(source.Bundle, random) : MutateField(source.Bundle, random);

            var verdict = source.Verifier.Verify(mutated, source.Artifact, source.Policy);

            Assert.NotNull(verdict.Reason);
            outcomes[verdict.Failure] = outcomes.GetValueOrDefault(verdict.Failure) + 1;
        }

        // Most mutations must be caught; a handful land on unsigned fields (hints, key IDs) and still verify.
        Assert.True(outcomes.GetValueOrDefault(BundleFailure.None) < Mutations / 5, Summary(outcomes));
        Assert.True(outcomes.Keys.Count(k => k != BundleFailure.None) >= 8, Summary(outcomes));
    }

    private static string Summary(Dictionary<BundleFailure, int> outcomes) =>
        string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"));

    private static byte[] MutateBytes(string bundle, Random random)
    {
        var bytes = Encoding.UTF8.GetBytes(bundle).ToList();
        var at = random.Next(bytes.Count);
        switch (random.Next(4))
        {
            case 0:
                bytes[at] = (byte)random.Next(256);
                break;
            case 1:
                bytes.RemoveRange(at, Math.Min(random.Next(1, 16), bytes.Count - at));
                break;
            case 2:
                bytes.InsertRange(at, Enumerable.Range(0, random.Next(1, 8)).Select(_ => (byte)random.Next(32, 127)));
                break;
            default:
                bytes[at] ^= (byte)(1 << random.Next(8));
                break;
        }

        return [.. bytes];
    }

    private static byte[] MutateField(string bundle, Random random)
    {
        var root = JsonNode.Parse(bundle)!;
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[random.Next(nodes.Count)];
        JsonNode? replacement = random.Next(12) switch
        {
            0 => null,
            1 => "",
            2 => Convert.ToBase64String(Enumerable.Range(0, random.Next(1, 300)).Select(_ => (byte)random.Next(256)).ToArray()),
            3 => -1,
            4 => long.MaxValue,
            5 => "18446744073709551616",
            6 => new JsonObject(),
            7 => new JsonArray(1, "x", null),
            8 => new string('A', 1 << 20),
            9 => true,
            10 => "not base64 ☃",
            _ => Convert.ToBase64String(new byte[random.Next(0, 4)]),
        };

        var parent = target.Parent;
        if (parent is JsonObject obj)
        {
            var name = target.GetPropertyName();
            if (random.Next(5) == 0)
            {
                obj.Remove(name);
            }
            else
            {
                obj[name] = replacement;
            }
        }
        else if (parent is JsonArray array)
        {
            var index = target.GetElementIndex();
            if (random.Next(5) == 0)
            {
                array.RemoveAt(index);
            }
            else
            {
                array[index] = replacement;
            }
        }

        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        if (node.Parent is not null)
        {
            nodes.Add(node);
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    if (child is not null)
                    {
                        Collect(child, nodes);
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null)
                    {
                        Collect(child, nodes);
                    }
                }

                break;
        }
    }
}

using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Trust.Tests.Sigstore;

/// <summary>
/// Robustness: 1,000 seeded mutations (bytes of the JSON text, and JSON fields replaced, removed or blown up)
/// of valid bundles signed with fixed keys (sigstore-js fixtures, and Sigstore's conformance bundles where
/// ../shared is at hand), so a failing seed replays exactly. Each mutation is recorded by what it changed;
/// one that changes nothing is not counted. Every mutation must come back as a verdict, never an exception,
/// and one that still verifies must have touched only fields that are not signed — each on the list below
/// with the reason it is unsigned.
/// </summary>
public sealed partial class BundleMutationTests
{
    private const int Mutations = 1000;
    private const int Seed = 20261128;

    /// <summary>Fields a signature does not cover, so changing them may leave a bundle valid, and why.</summary>
    private static readonly (Regex Path, string Why)[] Unsigned =
    [
        (new(@"^\$\.messageSignature\.messageDigest(\.|$)"), "given the artifact, its digest is recomputed with the hash the signature itself uses; the bundle's copy is a convenience"),
        (new(@"^\$\.verificationMaterial\.timestampVerificationData(\.|$)"), "timestamps are extra evidence of when the signature was made; without them the log's signed promise still dates it"),
        (new(@"^\$\.verificationMaterial\.publicKey\.hint$"), "a hint for finding the key, never trusted"),
        (new(@"^\$\.mediaType$"), "both spellings of a version's media type are accepted"),
        (new(@"^\+"), "a field the bundle format does not define is ignored, as protobuf-JSON readers do"),
        (new(@"^\$\.verificationMaterial\.tlogEntries\[\d+\]\.inclusionProof\.checkpoint(\.envelope)?$"),
            "in a v0.1 bundle the signed inclusion promise is the required evidence; a proof and its checkpoint are optional"),
    ];

    [Fact]
    public void Verify_ThousandMutatedBundles_AlwaysReturnsAVerdict_AndOnlyUnsignedFieldsCanChange()
    {
        var sources = Sources();
        foreach (var source in sources)
        {
            Assert.True(source.Verifier.Verify(Encoding.UTF8.GetBytes(source.Bundle), source.Artifact, source.Policy).Verified, $"{source.Name} must verify unmutated");
        }

        var random = new Random(Seed);
        var outcomes = new Dictionary<BundleFailure, int>();
        var noOps = 0;
        for (var i = 0; i < Mutations; i++)
        {
            var source = sources[i % sources.Count];
            var (mutated, what) = i % 2 == 0 ? MutateBytes(source.Bundle, random) : MutateField(source.Bundle, random);
            var changed = ChangedPaths(source.Bundle, mutated);
            if (changed is { Count: 0 })
            {
                noOps++;
                continue; // nothing a reader can see changed (whitespace, the same value written again)
            }

            var verdict = source.Verifier.Verify(mutated, source.Artifact, source.Policy);

            Assert.NotNull(verdict.Reason);
            outcomes[verdict.Failure] = outcomes.GetValueOrDefault(verdict.Failure) + 1;
            if (verdict.Verified)
            {
                var signed = (changed ?? ["(text no longer parses as JSON)"]).Where(p => !Unsigned.Any(u => u.Path.IsMatch(p))).ToList();
                Assert.True(signed.Count == 0, $"mutation {i} of {source.Name} ({what}) changed {string.Join(", ", signed)} and still verified (seed {Seed})");
            }
        }

        Assert.True(noOps < Mutations / 4, $"{noOps} mutations changed nothing");
        Assert.True(outcomes.Keys.Count(k => k != BundleFailure.None) >= 6, Summary(outcomes));
    }

    private sealed record Source(string Name, string Bundle, BundleVerifier Verifier, ArtifactInput Artifact, VerificationPolicy Policy);

    private static List<Source> Sources()
    {
        var sources = new List<Source>
        {
            new("sigstore-js message-tlog-tsa", SigstoreJsFixtureTests.Bundle("message-tlog-tsa"), SigstoreJsFixtureTests.Verifier(),
                ArtifactInput.FromBytes(SigstoreJsFixtureTests.Artifact("message-tlog-tsa")), SigstoreJsFixtureTests.Policy()),
            new("sigstore-js message-tlog", SigstoreJsFixtureTests.Bundle("message-tlog"), SigstoreJsFixtureTests.Verifier(),
                ArtifactInput.FromBytes(SigstoreJsFixtureTests.Artifact("message-tlog")), SigstoreJsFixtureTests.Policy()),
        };

        // Production bundles too (Rekor v1 and v2, message signatures and DSSE); CI always has them.
        var conformance = GroundTruth.Folder("sigstore-conformance", "bundle-verify");
        if (GroundTruth.Present(conformance))
        {
            var policy = VerificationPolicy.ForIdentity(
                "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
                "https://token.actions.githubusercontent.com");
            var a = ArtifactInput.FromBytes(File.ReadAllBytes(Path.Combine(conformance, "a.txt")));
            foreach (var name in new[] { "happy-path-v0.1", "happy-path-v0.3", "rekor2-happy-path", "rekor2-dsse-happy-path" })
            {
                var folder = Path.Combine(conformance, name);
                var root = File.Exists(Path.Combine(folder, "trusted_root.json")) ? TrustedRoot.Parse(File.ReadAllText(Path.Combine(folder, "trusted_root.json"))) : TrustedRoot.PublicGood;
                var artifact = File.Exists(Path.Combine(folder, "artifact")) ? ArtifactInput.FromBytes(File.ReadAllBytes(Path.Combine(folder, "artifact"))) : a;
                sources.Add(new(name, File.ReadAllText(Path.Combine(folder, "bundle.sigstore.json")), new BundleVerifier(root), artifact, policy));
            }
        }

        return sources;
    }

    private static string Summary(Dictionary<BundleFailure, int> outcomes) =>
        string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"));

    /// <summary>The JSON paths whose values differ; null when the mutated text is not JSON at all; empty when nothing changed.</summary>
    private static List<string>? ChangedPaths(string original, byte[] mutated)
    {
        try
        {
            var paths = new List<string>();
            Diff(JsonNode.Parse(original), JsonNode.Parse(mutated), "$", paths);
            return paths;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            return null; // not JSON any more (invalid UTF-8 in a string, broken syntax)
        }
    }

    private static void Diff(JsonNode? a, JsonNode? b, string path, List<string> paths)
    {
        switch (a, b)
        {
            case (JsonObject oa, JsonObject ob):
                foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                {
                    if (!oa.ContainsKey(key))
                    {
                        paths.Add($"+{path}.{key}"); // a field the mutation added
                    }
                    else if (!ob.ContainsKey(key))
                    {
                        paths.Add($"{path}.{key}");
                    }
                    else
                    {
                        Diff(oa[key], ob[key], $"{path}.{key}", paths);
                    }
                }

                break;
            case (JsonArray xa, JsonArray xb) when xa.Count == xb.Count:
                for (var i = 0; i < xa.Count; i++)
                {
                    Diff(xa[i], xb[i], $"{path}[{i}]", paths);
                }

                break;
            default:
                if (!JsonNode.DeepEquals(a, b))
                {
                    paths.Add(path);
                }

                break;
        }
    }

    private static (byte[] Bytes, string What) MutateBytes(string bundle, Random random)
    {
        var bytes = Encoding.UTF8.GetBytes(bundle).ToList();
        var at = random.Next(bytes.Count);
        string what;
        switch (random.Next(4))
        {
            case 0:
                bytes[at] = (byte)random.Next(256);
                what = $"byte {at} replaced";
                break;
            case 1:
                var count = Math.Min(random.Next(1, 16), bytes.Count - at);
                bytes.RemoveRange(at, count);
                what = $"{count} bytes removed at {at}";
                break;
            case 2:
                var inserted = Enumerable.Range(0, random.Next(1, 8)).Select(_ => (byte)random.Next(32, 127)).ToList();
                bytes.InsertRange(at, inserted);
                what = $"{inserted.Count} bytes inserted at {at}";
                break;
            default:
                bytes[at] ^= (byte)(1 << random.Next(8));
                what = $"a bit of byte {at} flipped";
                break;
        }

        return ([.. bytes], what);
    }

    private static (byte[] Bytes, string What) MutateField(string bundle, Random random)
    {
        var root = JsonNode.Parse(bundle)!;
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[random.Next(nodes.Count)];
        var choice = random.Next(12);
        JsonNode? replacement = choice switch
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

        var path = target.GetPath();
        var remove = random.Next(5) == 0;
        switch (target.Parent)
        {
            case JsonObject obj when remove:
                obj.Remove(target.GetPropertyName());
                break;
            case JsonObject obj:
                obj[target.GetPropertyName()] = replacement;
                break;
            case JsonArray array when remove:
                array.RemoveAt(target.GetElementIndex());
                break;
            case JsonArray array:
                array[target.GetElementIndex()] = replacement;
                break;
        }

        return (Encoding.UTF8.GetBytes(root.ToJsonString()), remove ? $"{path} removed" : $"{path} replaced (choice {choice})");
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

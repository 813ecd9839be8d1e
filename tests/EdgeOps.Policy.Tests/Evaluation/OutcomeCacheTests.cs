using EdgeOps.Fleet.Model;
using EdgeOps.Policy.Evaluation;

namespace EdgeOps.Policy.Tests.Evaluation;

/// <summary>
/// The outcome cache reuses a result only where the policy would give the same one: same object,
/// and the same values for every context field the policy read.
/// </summary>
public sealed class OutcomeCacheTests
{
    private static Cluster Cluster(string name, string tier, string country) =>
        PolicyHarness.Cluster($"metadata:\n  name: {name}\n  labels:\n    tier: {tier}\n    country: {country}\n");

    private static (PolicyEngine Engine, Func<Cluster, PolicyEvaluation> Run) Engine(string validateBody)
    {
        var engine = new PolicyEngine(PolicyHarness.PodPolicy(validateBody));
        var objects = PolicyHarness.Objects(PolicyHarness.Pod);
        return (engine, cluster => engine.Evaluate(StandaloneTarget.For(objects, cluster)));
    }

    [Fact]
    public void PolicyThatIgnoresTheCluster_IsEvaluatedOncePerObject()
    {
        var (engine, run) = Engine("  return \"always\";");
        using (engine)
        {
            for (var i = 0; i < 50; i++)
            {
                Assert.Single(run(Cluster($"c{i}", i % 2 == 0 ? "far" : "micro", "ES")).Violations);
            }

            Assert.Equal((1, 49), engine.Statistics);
        }
    }

    [Fact]
    public void EngineThatDoesNotRememberOutcomes_CallsThePolicyEachTime_WithTheSameVerdicts()
    {
        using var engine = new PolicyEngine(PolicyHarness.PodPolicy("  if (ctx.cluster.labels.tier === \"micro\") return \"robot\";"), new PolicyEngineOptions { RememberOutcomes = false });
        var objects = PolicyHarness.Objects(PolicyHarness.Pod);

        for (var i = 0; i < 6; i++)
        {
            var tier = i % 2 == 0 ? "micro" : "far";
            Assert.Equal(tier == "micro" ? 1 : 0, engine.Evaluate(StandaloneTarget.For(objects, Cluster($"c{i}", tier, "ES"))).Violations.Length);
        }

        Assert.Equal((6, 0), engine.Statistics);
        // Nothing asked for the object's content hash, so none was computed: that digest is the cost of remembering.
        Assert.All(objects, o => Assert.Null(o.Body.ContentDigest));
    }

    [Fact]
    public void EngineThatRemembersOutcomes_KeysThemByTheObjectsContentHash()
    {
        using var engine = new PolicyEngine(PolicyHarness.PodPolicy("  return \"always\";"));
        var objects = PolicyHarness.Objects(PolicyHarness.Pod);

        engine.Evaluate(StandaloneTarget.For(objects, Cluster("c1", "far", "ES")));

        Assert.All(objects, o => Assert.NotNull(o.Body.ContentDigest));
    }

    [Fact]
    public void PolicyThatReadsALabel_IsEvaluatedOncePerValueOfThatLabel()
    {
        var (engine, run) = Engine("  if (ctx.cluster.labels.tier === \"micro\") return \"robot\";");
        using (engine)
        {
            for (var i = 0; i < 30; i++)
            {
                var tier = (i % 3) switch { 0 => "far", 1 => "micro", _ => "near" };
                var evaluation = run(Cluster($"c{i}", tier, i % 2 == 0 ? "ES" : "IT"));
                Assert.Equal(tier == "micro" ? 1 : 0, evaluation.Violations.Length);
            }

            Assert.Equal(3, engine.Statistics.Evaluations);
        }
    }

    [Fact]
    public void PolicyWhoseReadsDifferPerCluster_StaysCorrect_AndKeepsOnlyTheNewestReadSets()
    {
        // Reads the label its own tier names: a different read set for each tier, more tiers than the cache keeps.
        var (engine, run) = Engine("  const wanted = ctx.cluster.labels.tier; return ctx.cluster.labels[\"k-\" + wanted] === \"yes\" ? \"flagged \" + wanted : undefined;");
        using (engine)
        {
            var tiers = Enumerable.Range(0, OutcomeCache.MaxGroupsPerSubject * 2).Select(i => $"t{i}").ToList();
            foreach (var order in new[] { tiers, Enumerable.Reverse(tiers).ToList() })
            {
                foreach (var tier in order)
                {
                    var flagged = tier.EndsWith('3');
                    var cluster = PolicyHarness.Cluster($"metadata:\n  name: c-{tier}\n  labels:\n    tier: {tier}\n    k-{tier}: \"{(flagged ? "yes" : "no")}\"\n");
                    var violations = run(cluster).Violations;
                    Assert.Equal(flagged ? [$"flagged {tier}"] : [], violations.Select(v => v.Message).ToArray());
                }
            }

            // Going back, the newest read sets were still cached and only the evicted ones were evaluated again.
            Assert.Equal(tiers.Count + (tiers.Count - OutcomeCache.MaxGroupsPerSubject), engine.Statistics.Evaluations);
        }
    }

    [Fact]
    public void PolicyThatReadsTheName_IsEvaluatedForEveryCluster()
    {
        var (engine, run) = Engine("  return ctx.cluster.name;");
        using (engine)
        {
            Assert.Equal("a", Assert.Single(run(Cluster("a", "far", "ES")).Violations).Message);
            Assert.Equal("b", Assert.Single(run(Cluster("b", "far", "ES")).Violations).Message);
            Assert.Equal("a", Assert.Single(run(Cluster("a", "far", "ES")).Violations).Message);
            Assert.Equal(2, engine.Statistics.Evaluations);
        }
    }

    [Fact]
    public void PolicyThatEnumeratesLabels_DependsOnTheKeySet()
    {
        var (engine, run) = Engine("  return Object.keys(ctx.cluster.labels).join(\",\");");
        using (engine)
        {
            Assert.Equal("country,tier", Assert.Single(run(Cluster("a", "far", "ES")).Violations).Message);
            var withSite = PolicyHarness.Cluster("metadata:\n  name: a\n  labels:\n    tier: far\n    country: ES\n    site: x\n");
            Assert.Equal("country,site,tier", Assert.Single(run(withSite).Violations).Message);
        }
    }

    [Fact]
    public void PolicyThatChecksAMissingLabel_SeesItAppear()
    {
        var (engine, run) = Engine("  return ctx.cluster.labels.ring === undefined ? \"no ring\" : \"ring \" + ctx.cluster.labels.ring;");
        using (engine)
        {
            Assert.Equal("no ring", Assert.Single(run(Cluster("a", "far", "ES")).Violations).Message);
            var canary = PolicyHarness.Cluster("metadata:\n  name: a\n  labels:\n    tier: far\n    country: ES\n    ring: canary\n");
            Assert.Equal("ring canary", Assert.Single(run(canary).Violations).Message);
        }
    }

    private static Cluster WithZones(string name, string zones) =>
        PolicyHarness.Cluster($"metadata:\n  name: {name}\n  labels:\n    tier: far\nspec:\n  values:\n    zones: {zones}\n    hosts:\n      - {{name: h1}}\n");

    [Fact]
    public void PolicyThatReadsAListOfPlainValues_DependsOnItsWholeContent()
    {
        // The list is handed over whole (no proxy per element), so an outcome is reused only for the same list.
        var (engine, run) = Engine("  return ctx.cluster.values.zones.includes(\"b\") ? \"in b\" : undefined;");
        using (engine)
        {
            Assert.Equal("in b", Assert.Single(run(WithZones("c1", "[a, b]")).Violations).Message);
            Assert.Empty(run(WithZones("c2", "[a, c]")).Violations);
            Assert.Equal("in b", Assert.Single(run(WithZones("c3", "[a, b]")).Violations).Message);
            Assert.Equal("in b", Assert.Single(run(WithZones("c4", "[b, a, c]")).Violations).Message);
            Assert.Equal(3, engine.Statistics.Evaluations);
        }
    }

    [Fact]
    public void ListsOfPlainValues_AreFrozenWhole_AndListsOfObjectsStayTracked()
    {
        var (engine, run) = Engine(
            "  const zones = ctx.cluster.values.zones, hosts = ctx.cluster.values.hosts;\n" +
            "  let pushed = \"refused\";\n" +
            "  try { zones.push(\"x\"); pushed = \"pushed\"; } catch (e) { pushed = e instanceof TypeError ? \"refused\" : \"other\"; }\n" +
            "  return `${Object.isFrozen(zones)} ${Object.isFrozen(hosts)} ${pushed} ${zones.join(\"+\")} ${hosts[0].name}`;");
        using (engine)
        {
            Assert.Equal("true false refused a+b h1", Assert.Single(run(WithZones("c1", "[a, b]")).Violations).Message);
            // Another cluster's list is its own, and the refused push changed nothing that is kept for later calls.
            Assert.Equal("true false refused a+b+c h1", Assert.Single(run(WithZones("c2", "[a, b, c]")).Violations).Message);
            Assert.Equal("true false refused a+b h1", Assert.Single(run(WithZones("c3", "[a, b]")).Violations).Message);
        }
    }
}

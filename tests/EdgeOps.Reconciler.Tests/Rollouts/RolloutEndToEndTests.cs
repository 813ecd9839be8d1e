using EdgeOps.Collector.Tests.Infrastructure;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Rollouts;

/// <summary>
/// A rollout end to end: a real collector (SQLite) and three agents — canary, wave 2, wave 3 — on the test API
/// server, each reporting with its own key. A commit that breaks health on the canary closes the gate: the canary
/// rolls back, the later waves never apply it. A good commit then flows through the waves in order, each wave
/// only after the one before passed. An operator's halt takes clusters that applied a revision back to the one
/// before it.
/// </summary>
[Collection("kube")]
public sealed class RolloutEndToEndTests(KubeServerFixture fixture) : IDisposable
{
    private readonly TempFleet _repo = new(withFleet: false);
    private readonly string _root = Directory.CreateTempSubdirectory("edgeops-rollout-").FullName;
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private string Namespace(string cluster) => $"ro-{_suffix}-{cluster}";

    /// <summary>The app: a ConfigMap with <paramref name="version"/>; <paramref name="broken"/> adds a Deployment that never becomes available (no kubelet).</summary>
    private string CommitApp(string version, bool broken, string message)
    {
        var manifest = $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app, namespace: \"ro-{_suffix}-${{cluster.name}}\"}}\ndata: {{version: \"{version}\"}}\n";
        if (broken)
        {
            manifest += $"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: broken, namespace: \"ro-{_suffix}-${{cluster.name}}\"}}\n" +
                "spec:\n  replicas: 1\n  selector: {matchLabels: {app: broken}}\n  template:\n    metadata: {labels: {app: broken}}\n" +
                "    spec:\n      containers: [{name: c, image: \"registry.example/broken@sha256:" + new string('0', 64) + "\", resources: {limits: {cpu: 100m, memory: 64Mi}}}]\n";
        }

        _repo.Workload("app", manifest: manifest);
        return _repo.Commit(message);
    }

    private (EdgeOps.Reconciler.Pipeline.Reconciler Agent, string State) Agent(KubeApi api, string cluster, Uri collector, string key, TimeProvider? clock = null)
    {
        var state = Path.Combine(_root, cluster);
        Directory.CreateDirectory(state);
        var agent = new EdgeOps.Reconciler.Pipeline.Reconciler(new ReconcilerOptions
        {
            Source = new GitSourceOptions { Url = _repo.Root, Branch = "main", CacheDirectory = Path.Combine(state, "repo.git") },
            Cluster = cluster,
            StateDirectory = state,
            Namespace = $"edgeops-{_suffix}-{cluster}",
            Identity = $"{cluster}/test",
            HealthTimeout = TimeSpan.FromSeconds(4),
            ReportSigner = Trust.Ssh.SshSigner.FromOpenSsh(File.ReadAllText(key)),
            // Every pass reports (passes here follow each other within seconds), so every receipt is fresh.
            Collector = new CollectorOptions { Url = collector, Heartbeat = TimeSpan.Zero, Timeout = TimeSpan.FromSeconds(3) },
            Clock = clock ?? TimeProvider.System,
        }, api);
        return (agent, state);
    }

    private async Task<string?> VersionAsync(KubeApi api, string cluster)
    {
        var resource = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        var map = await api.GetAsync(resource, Namespace(cluster), "app", CancellationToken.None);
        return map?["data"]?["version"]?.GetValue<string>();
    }

    private async Task<bool> HasBrokenAsync(KubeApi api, string cluster)
    {
        var resource = (await api.ResolveAsync("apps/v1", "Deployment", CancellationToken.None))!;
        return await api.GetAsync(resource, Namespace(cluster), "broken", CancellationToken.None) is not null;
    }

    [Fact]
    public async Task BrokenCanary_ClosesTheGate_ThenAGoodCommitFlowsThroughTheWavesInOrder()
    {
        _repo.WaveFleet([("canary", "canary"), ("second", "two"), ("third", "three")], rollout: "maxFailures: 0");
        var keys = Clusters(("c1", "canary"), ("c2", "two"), ("c3", "three"));

        var v1 = CommitApp("v1", broken: false, "v1 everywhere");
        await using var collector = await CollectorBed.StartAsync(_repo);
        using var api = new KubeApi(fixture.Server.Configuration);
        var c1 = Agent(api, "c1", collector.Url, keys["c1"]).Agent;
        var c2 = Agent(api, "c2", collector.Url, keys["c2"]).Agent;
        var c3 = Agent(api, "c3", collector.Url, keys["c3"]).Agent;

        // A cluster's first revision is taken at once: there is nothing older to keep running.
        foreach (var agent in new[] { c1, c2, c3 })
        {
            Assert.Equal(PassOutcome.Applied, (await agent.RunOnceAsync(CancellationToken.None)).Outcome);
        }

        // A commit that breaks health on the canary.
        var broken = CommitApp("v2", broken: true, "v2 with a deployment that never becomes available");
        collector.Registry.Refresh();
        var secondWaits = await c2.RunOnceAsync(CancellationToken.None);
        var canary = await c1.RunOnceAsync(CancellationToken.None);
        var rollout = await collector.Client.GetRolloutAsync(broken, CancellationToken.None);
        var secondAfter = await c2.RunOnceAsync(CancellationToken.None);
        var thirdAfter = await c3.RunOnceAsync(CancellationToken.None);
        var secondKnows = await c2.RunOnceAsync(CancellationToken.None);
        var canaryAgain = await c1.RunOnceAsync(CancellationToken.None);
        var stillCounted = await collector.Client.GetRolloutAsync(broken, CancellationToken.None);

        Assert.Equal((PassOutcome.Waiting, v1), (secondWaits.Outcome, secondWaits.AppliedRevision));
        Assert.Contains("waits for wave 'canary' to pass", secondWaits.Message, StringComparison.Ordinal);
        Assert.Equal((PassOutcome.RolledBack, v1), (canary.Outcome, canary.AppliedRevision));
        Assert.True(rollout.Halted, "the canary's failure closes the gate");
        Assert.Equal(["halted", "pending", "pending"], rollout.Waves.Select(w => w.Gate));
        Assert.Equal((PassOutcome.Waiting, PassOutcome.Waiting), (secondAfter.Outcome, thirdAfter.Outcome));
        Assert.Equal(PassOutcome.Waiting, secondKnows.Outcome);
        Assert.Contains("halted", secondKnows.Message, StringComparison.Ordinal);
        // Back on v1 the canary reports success, and still names v2 as failed there: the operator sees which wave failed.
        Assert.Equal((PassOutcome.Unchanged, v1), (canaryAgain.Outcome, canaryAgain.AppliedRevision));
        Assert.Equal((1, 0), (stillCounted.Waves[0].Failed, stillCounted.Waves[0].Applied));
        Assert.Equal(("v1", "v1", "v1"), (await VersionAsync(api, "c1"), await VersionAsync(api, "c2"), await VersionAsync(api, "c3")));
        Assert.False(await HasBrokenAsync(api, "c2") || await HasBrokenAsync(api, "c3"), "later waves never apply the halted revision");

        // A good commit: its own rollout, wave by wave.
        var good = CommitApp("v3", broken: false, "v3 fixed");
        collector.Registry.Refresh();
        var thirdEarly = await c3.RunOnceAsync(CancellationToken.None);
        var secondEarly = await c2.RunOnceAsync(CancellationToken.None);
        var canaryGood = await c1.RunOnceAsync(CancellationToken.None);
        var thirdBeforeSecond = await c3.RunOnceAsync(CancellationToken.None);
        var secondGood = await c2.RunOnceAsync(CancellationToken.None);
        var thirdGood = await c3.RunOnceAsync(CancellationToken.None);
        var done = await collector.Client.GetRolloutAsync(good, CancellationToken.None);

        Assert.Equal((PassOutcome.Waiting, PassOutcome.Waiting), (thirdEarly.Outcome, secondEarly.Outcome));
        Assert.Equal((PassOutcome.Applied, good), (canaryGood.Outcome, canaryGood.AppliedRevision));
        Assert.Equal(PassOutcome.Waiting, thirdBeforeSecond.Outcome);
        Assert.Contains("waits for wave 'second' to pass", thirdBeforeSecond.Message, StringComparison.Ordinal);
        Assert.Equal((PassOutcome.Applied, good), (secondGood.Outcome, secondGood.AppliedRevision));
        Assert.Equal((PassOutcome.Applied, good), (thirdGood.Outcome, thirdGood.AppliedRevision));
        Assert.Equal(["passed", "passed", "passed"], done.Waves.Select(w => w.Gate));
        Assert.Equal(("v3", "v3", "v3"), (await VersionAsync(api, "c1"), await VersionAsync(api, "c2"), await VersionAsync(api, "c3")));

        // The operator halts it: clusters that applied it learn so from their next report and go back to v1.
        await collector.Client.HaltAsync(good, "field reports", CancellationToken.None);
        var learns = await c2.RunOnceAsync(CancellationToken.None);
        var rollsBack = await c2.RunOnceAsync(CancellationToken.None);
        var staysBack = await c2.RunOnceAsync(CancellationToken.None);

        Assert.Equal(good, learns.AppliedRevision);
        Assert.Equal((PassOutcome.Applied, v1), (rollsBack.Outcome, rollsBack.AppliedRevision));
        Assert.Contains("halted; rolling back", rollsBack.Message, StringComparison.Ordinal);
        Assert.Equal((PassOutcome.Waiting, v1), (staysBack.Outcome, staysBack.AppliedRevision));
        Assert.Equal("v1", await VersionAsync(api, "c2"));
    }

    /// <summary>A fleet of a canary and a second wave (<paramref name="secondWave"/> adds fields to it, one per line); returns the clusters' report keys.</summary>
    private Dictionary<string, string> TwoWaveFleet(string secondWave = "")
    {
        _repo.WaveFleet([("canary", "canary"), ("second", "two")], lastWave: secondWave);
        return Clusters(("c1", "canary"), ("c2", "two"));
    }

    /// <summary>Clusters in the given rings, each with a report key of its own (ssh-keygen); returns the keys' paths.</summary>
    private Dictionary<string, string> Clusters(params (string Cluster, string Ring)[] clusters)
    {
        var keys = new Dictionary<string, string>();
        foreach (var (cluster, ring) in clusters)
        {
            keys[cluster] = SshSigning.NewKey(_root, cluster + "-report");
            _repo.Cluster(cluster, $"ring: {ring}", $"reportKey: \"{SshSigning.PublicKey(keys[cluster])}\"");
        }

        return keys;
    }

    [Fact]
    public async Task CollectorUnreachable_TheFirstWaveProceeds_LaterWavesHold_AndSaySo()
    {
        var keys = TwoWaveFleet();
        var v1 = CommitApp("v1", broken: false, "v1");
        var nowhere = new Uri("http://127.0.0.1:9/"); // nothing listens on the discard port
        using var api = new KubeApi(fixture.Server.Configuration);
        var c1 = Agent(api, "c1", nowhere, keys["c1"]).Agent;
        var c2 = Agent(api, "c2", nowhere, keys["c2"]).Agent;
        await c1.RunOnceAsync(CancellationToken.None);
        await c2.RunOnceAsync(CancellationToken.None);
        var v2 = CommitApp("v2", broken: false, "v2");

        var canary = await c1.RunOnceAsync(CancellationToken.None);
        var second = await c2.RunOnceAsync(CancellationToken.None);

        Assert.Equal((PassOutcome.Applied, v2), (canary.Outcome, canary.AppliedRevision));
        Assert.Equal((PassOutcome.Waiting, v1), (second.Outcome, second.AppliedRevision));
        Assert.Contains("the collector is unreachable, so later waves hold", second.Message, StringComparison.Ordinal);
        Assert.Equal("v1", await VersionAsync(api, "c2"));
        Assert.True(second.Succeeded, "waiting is not a failure: no error backoff");
    }

    [Fact]
    public async Task TimeGatedWave_OpensItsPauseAfterTheCommit_WithoutTheCollector()
    {
        var keys = TwoWaveFleet("gate: time\npause: 1h");
        CommitApp("v1", broken: false, "v1");
        var nowhere = new Uri("http://127.0.0.1:9/");
        using var api = new KubeApi(fixture.Server.Configuration);
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var (c2, _) = Agent(api, "c2", nowhere, keys["c2"], clock);
        await c2.RunOnceAsync(CancellationToken.None);
        var v2 = CommitApp("v2", broken: false, "v2");

        var early = await c2.RunOnceAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(61));
        var later = await c2.RunOnceAsync(CancellationToken.None);

        Assert.Equal(PassOutcome.Waiting, early.Outcome);
        Assert.Contains("opens by time", early.Message, StringComparison.Ordinal);
        Assert.InRange(early.RequeueAfter!.Value, TimeSpan.FromMinutes(55), TimeSpan.FromMinutes(61));
        Assert.Equal((PassOutcome.Applied, v2), (later.Outcome, later.AppliedRevision));
    }

    [Fact]
    public async Task LaterWave_SkipsStraightToTheNewestRevisionThatPassedTheWaveBeforeIt()
    {
        var keys = TwoWaveFleet();
        CommitApp("v1", broken: false, "v1");
        await using var collector = await CollectorBed.StartAsync(_repo);
        using var api = new KubeApi(fixture.Server.Configuration);
        var c1 = Agent(api, "c1", collector.Url, keys["c1"]).Agent;
        var c2 = Agent(api, "c2", collector.Url, keys["c2"]).Agent;
        await c1.RunOnceAsync(CancellationToken.None);
        await c2.RunOnceAsync(CancellationToken.None);
        var v2 = CommitApp("v2", broken: false, "v2");
        collector.Registry.Refresh();
        Assert.Equal(v2, (await c1.RunOnceAsync(CancellationToken.None)).AppliedRevision); // the canary passes v2
        var v3 = CommitApp("v3", broken: false, "v3, while v2 is still rolling out");
        collector.Registry.Refresh();

        var second = await c2.RunOnceAsync(CancellationToken.None);

        Assert.Equal((PassOutcome.Applied, v2), (second.Outcome, second.AppliedRevision));
        Assert.Contains($"taking {v2[..12]}", second.Message, StringComparison.Ordinal);
        Assert.Equal("v2", await VersionAsync(api, "c2"));
        var rollout = await collector.Client.GetRolloutAsync(v3, CancellationToken.None);
        Assert.Equal(["open", "pending"], rollout.Waves.Select(w => w.Gate)); // v3 has its own rollout, at the canary
    }
}

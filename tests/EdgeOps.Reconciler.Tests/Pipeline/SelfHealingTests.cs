using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Reconciler.Transactions;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>
/// The agent never wedges: Git wins over hand edits, rollbacks that cannot finish do not block newer
/// revisions, namespaces are created, damaged caches and crashing policies are survived, and every
/// pass tells the truth in status and Events. Real API server, real Git.
/// </summary>
[Collection("kube")]
public sealed class SelfHealingTests(KubeServerFixture fixture) : IDisposable
{
    private readonly TempFleet _repo = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly string _state = Path.Combine(Path.GetTempPath(), "edgeops-heal-" + Guid.NewGuid().ToString("N")[..10]);

    private string Ns => $"heal-{_suffix}";

    private string AgentNs => $"edgeops-{_suffix}";

    private string ConfigMaps(params string[] names) =>
        $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {Ns}}}\n" + string.Concat(names.Select(n => $"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}, namespace: {Ns}}}\ndata: {{k: {n}}}\n"));

    private EdgeOps.Reconciler.Pipeline.Reconciler NewReconciler(KubeApi api, string? branch = "main", Action<string>? checkpoint = null) => new(new ReconcilerOptions
    {
        Source = new GitSourceOptions { Url = _repo.Root, Branch = branch, CacheDirectory = Path.Combine(_state, "repo.git") },
        Cluster = "edge-1",
        StateDirectory = _state,
        Namespace = AgentNs,
        HealthTimeout = TimeSpan.FromSeconds(20),
        Checkpoint = checkpoint,
    }, api);

    private string CommitFleet(string manifest, string message, string workloadSpec = "")
    {
        _repo.Cluster("edge-1", "tier: far");
        _repo.Workload("app", workloadSpec, manifest);
        return _repo.Commit(message);
    }

    private async Task<JsonObject?> ConfigMapAsync(KubeApi api, string name, string? ns = null)
    {
        var resource = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        return await api.GetAsync(resource, ns ?? Ns, name, CancellationToken.None);
    }

    /// <summary>What kubectl patch does: a merge patch under its own field manager.</summary>
    private async Task HandEditAsync(KubeApi api, string name, string patch, string manager = "kubectl-patch")
    {
        var resource = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        var response = await api.RawAsync(HttpMethod.Patch, resource.Path(Ns, name) + $"?fieldManager={manager}", patch, "application/merge-patch+json", CancellationToken.None);
        Assert.True(response.IsSuccess, response.Message);
    }

    private async Task<List<(string Reason, string Message)>> EventsAsync(KubeApi api)
    {
        var events = (await api.ResolveAsync("v1", "Event", CancellationToken.None))!;
        var list = await api.ListAsync(events, AgentNs, null, CancellationToken.None);
        return [.. list.Where(e => e["involvedObject"]?["name"]?.ToString() == StatusPublisher.ConfigMapName)
            .Select(e => (e["reason"]!.ToString(), e["message"]!.ToString()))];
    }

    [Fact]
    public async Task RevisionThatCrashesTheAgent_IsNotTriedAgainAfterTheRestart_UntilTheRepoMovesPastIt()
    {
        var first = CommitFleet(ConfigMaps("a"), "first");
        using var api = new KubeApi(fixture.Server.Configuration);
        Assert.Equal(PassOutcome.Applied, (await NewReconciler(api).RunOnceAsync(CancellationToken.None)).Outcome);
        var second = CommitFleet(ConfigMaps("a", "b"), "second");
        // A defect that this revision's content sets off, on its way in.
        var crashing = NewReconciler(api, checkpoint: point => _ = point == "step:render" ? throw new InvalidOperationException("a defect") : 0);

        await Assert.ThrowsAsync<InvalidOperationException>(() => crashing.RunOnceAsync(CancellationToken.None));
        var restarted = await NewReconciler(api).RunOnceAsync(CancellationToken.None);

        Assert.Equal((PassOutcome.Unchanged, first), (restarted.Outcome, restarted.AppliedRevision));
        Assert.Contains($"revision {second[..12]} failed before (it crashed the agent (InvalidOperationException: a defect)); waiting for a newer one", restarted.Message, StringComparison.Ordinal);
        Assert.Null(await ConfigMapAsync(api, "b"));
        var third = CommitFleet(ConfigMaps("a", "b", "c"), "third");
        var moved = await NewReconciler(api).RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Applied, third), (moved.Outcome, moved.AppliedRevision));
    }

    [Fact]
    public async Task PreInitializedBlueGreenDeployment_OfAShapeKubernetesRefuses_FailsThePassInWords_WithoutACrash()
    {
        string App(string selector, string image) => $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {Ns}}}\n---\n" +
            $"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {Ns}}}\nspec:\n  replicas: 0\n  selector: {selector}\n" +
            $"  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: web, image: {image}}}]\n";
        const string Strategy = "upgradeStrategy: {type: BlueGreen, preInitialize: true}";
        var first = CommitFleet(App("{matchLabels: {app: web}}", "nginx:1"), "first", Strategy);
        using var api = new KubeApi(fixture.Server.Configuration);
        var applied = await NewReconciler(api).RunOnceAsync(CancellationToken.None);
        Assert.True(applied.Outcome == PassOutcome.Applied, applied.Message);
        // Valid YAML and a valid fleet, but not a Deployment the API server accepts.
        CommitFleet(App("\"app=web\"", "nginx:2"), "a selector written as kubectl's -l", Strategy);

        var refused = await NewReconciler(api).RunOnceAsync(CancellationToken.None);

        Assert.Equal(first, refused.AppliedRevision);
        Assert.True(refused.Outcome is PassOutcome.RolledBack or PassOutcome.Failed, $"{refused.Outcome}: {refused.Message}");
        Assert.Contains(".spec.selector: expected map", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandEdit_IsCorrectedOnTheNextPass_NamingTheManager_AndALaterCommitApplies()
    {
        CommitFleet(ConfigMaps("planner"), "first");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);
        Assert.Equal(PassOutcome.Applied, (await reconciler.RunOnceAsync(CancellationToken.None)).Outcome);
        await HandEditAsync(api, "planner", """{"data":{"k":"x"}}""");

        var healed = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal(PassOutcome.Unchanged, healed.Outcome);
        Assert.Equal("planner", (await ConfigMapAsync(api, "planner"))!["data"]!["k"]!.ToString());
        var drift = Assert.Single(healed.Report.DriftCorrected);
        Assert.Contains("kubectl-patch", drift, StringComparison.Ordinal);
        Assert.Contains("corrected drift", healed.Message, StringComparison.Ordinal);
        Assert.Contains(await EventsAsync(api), e => e.Reason == "DriftCorrected" && e.Message.Contains("kubectl-patch", StringComparison.Ordinal));

        // The edit again, then a new commit: it applies (before, the conflict wedged every later revision).
        await HandEditAsync(api, "planner", """{"data":{"k":"y"}}""");
        var next = CommitFleet(ConfigMaps("planner", "more"), "second");
        var applied = await reconciler.RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Applied, next), (applied.Outcome, applied.AppliedRevision));
        Assert.Equal("planner", (await ConfigMapAsync(api, "planner"))!["data"]!["k"]!.ToString());
        Assert.Contains(await EventsAsync(api), e => e.Reason == "Applied" && e.Message.Contains(next[..12], StringComparison.Ordinal));
    }

    [Fact]
    public async Task OptOutAnnotations_AreRespected()
    {
        var manifest = ConfigMaps("plain")
            + $"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seeded\n  namespace: {Ns}\n  annotations: {{edgeops.io/reconcile: if-not-present}}\ndata: {{k: seed}}\n"
            + $"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: handled, namespace: {Ns}}}\ndata: {{k: git}}\n";
        CommitFleet(manifest, "first");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);
        Assert.Equal(PassOutcome.Applied, (await reconciler.RunOnceAsync(CancellationToken.None)).Outcome);
        Assert.Equal("seed", (await ConfigMapAsync(api, "seeded"))!["data"]!["k"]!.ToString());

        // if-not-present: created, then left alone. disabled set on the live object: neither applied nor pruned.
        await HandEditAsync(api, "seeded", """{"data":{"k":"site-tuned"}}""");
        await HandEditAsync(api, "handled", """{"metadata":{"annotations":{"edgeops.io/reconcile":"disabled"}},"data":{"k":"by-hand"}}""");
        await HandEditAsync(api, "plain", """{"data":{"k":"drifted"}}""");
        var pass = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal(PassOutcome.Unchanged, pass.Outcome);
        Assert.Equal("site-tuned", (await ConfigMapAsync(api, "seeded"))!["data"]!["k"]!.ToString());
        Assert.Equal("by-hand", (await ConfigMapAsync(api, "handled"))!["data"]!["k"]!.ToString());
        Assert.Equal("plain", (await ConfigMapAsync(api, "plain"))!["data"]!["k"]!.ToString());

        CommitFleet(ConfigMaps("plain"), "drop the others");
        Assert.Equal(PassOutcome.Applied, (await reconciler.RunOnceAsync(CancellationToken.None)).Outcome);
        Assert.NotNull(await ConfigMapAsync(api, "handled"));
        Assert.Null(await ConfigMapAsync(api, "seeded"));
    }

    [Fact]
    public async Task RollbackThatCannotFinish_DoesNotBlockANewerCommit()
    {
        var good = CommitFleet(ConfigMaps("a"), "good");
        await using var proxy = new FaultProxy(fixture.Server.ServerUri);
        using var api = new KubeApi(new KubeConnection { Server = new Uri(proxy.Uri.ToString()), Token = fixture.Server.Token, SkipTlsVerify = true },
            new KubeApiOptions { InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50), MaxAttempts = 3 });
        var reconciler = NewReconciler(api);
        Assert.Equal(PassOutcome.Applied, (await reconciler.RunOnceAsync(CancellationToken.None)).Outcome);

        // Revision 2 changes a and adds an invalid Service: the apply fails; restoring a fails too.
        var bad = CommitFleet(ConfigMaps("a").Replace("{k: a}", "{k: a2}", StringComparison.Ordinal)
            + $"---\napiVersion: v1\nkind: Service\nmetadata: {{name: bad, namespace: {Ns}}}\nspec:\n  ports: [{{port: 99999}}]\n", "bad");
        var patchesOfA = 0;
        proxy.Plan = (_, request) => request.HttpMethod == "PATCH" && request.RawUrl!.Contains("/configmaps/a?", StringComparison.Ordinal) && ++patchesOfA > 1 ? FaultKind.ServerError : FaultKind.None;

        var rolledBack = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal((PassOutcome.RolledBack, good, bad), (rolledBack.Outcome, rolledBack.AppliedRevision, rolledBack.AttemptedRevision));
        Assert.Contains("could not be restored", rolledBack.Message, StringComparison.Ordinal);
        Assert.Contains(rolledBack.Report.FailedObjects, f => f.Object.Contains("ConfigMap", StringComparison.Ordinal) && f.Object.EndsWith("/a", StringComparison.Ordinal));
        Assert.Equal(TransactionPhase.RolledBack, new Journal(_state).Read()!.Phase);

        // Still broken: the next pass reports the object again instead of throwing.
        var again = await reconciler.RunOnceAsync(CancellationToken.None);
        Assert.Equal(PassOutcome.Failed, again.Outcome);
        Assert.Contains("retried on the next pass", again.Message, StringComparison.Ordinal);

        proxy.Plan = (_, _) => FaultKind.None;
        var newer = CommitFleet(ConfigMaps("a", "b"), "fixed");
        var applied = await reconciler.RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Applied, newer), (applied.Outcome, applied.AppliedRevision));
        Assert.Equal("a", (await ConfigMapAsync(api, "a"))!["data"]!["k"]!.ToString());
    }

    [Fact]
    public async Task WorkloadNamespaceWithoutAManifest_IsCreatedOwned_AndPrunedOnlyWhenItHoldsNothingForeign()
    {
        var retail = $"retail-{_suffix}";
        CommitFleet("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shelf}\ndata: {k: v}\n", "no namespace manifest", $"namespace: {retail}");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);

        var applied = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal(PassOutcome.Applied, applied.Outcome);
        var namespaces = (await api.ResolveAsync("v1", "Namespace", CancellationToken.None))!;
        var created = await api.GetAsync(namespaces, null, retail, CancellationToken.None);
        Assert.Equal("test-fleet", created!["metadata"]!["labels"]!["edgeops.io/fleet"]!.ToString());
        Assert.Equal("true", created["metadata"]!["annotations"]![NamespacePlanner.CreatedAnnotation]!.ToString());
        Assert.NotNull(await ConfigMapAsync(api, "shelf", retail));

        // Someone else's object in it: when the workload leaves, the namespace stays.
        var configMaps = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        Assert.True((await api.ApplyAsync(configMaps, retail, "theirs", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = "theirs", ["namespace"] = retail } }.ToJsonString(), "someone", false, CancellationToken.None)).IsSuccess);
        Directory.Delete(Path.Combine(_repo.Root, "workloads", "app"), recursive: true);
        _repo.Workload("other", manifest: ConfigMaps("x"));
        _repo.Commit("workload removed");
        var pruned = await reconciler.RunOnceAsync(CancellationToken.None);
        Assert.Equal(PassOutcome.Applied, pruned.Outcome);
        var kept = await api.GetAsync(namespaces, null, retail, CancellationToken.None);
        Assert.NotNull(kept);
        Assert.Null(kept!["metadata"]!["deletionTimestamp"]);
        Assert.Null(await ConfigMapAsync(api, "shelf", retail));
    }

    [Fact]
    public async Task MasterDefaultBranch_IsFollowedWithoutBranch_AndAMissingBranchIsRefusedNotOffline()
    {
        _repo.Git("init", "-q", "-b", "master");
        var head = CommitFleet(ConfigMaps("a"), "on master");
        using var api = new KubeApi(fixture.Server.Configuration);

        var followed = await NewReconciler(api, branch: null).RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Applied, head), (followed.Outcome, followed.AppliedRevision));

        var missing = await NewReconciler(api, branch: "main").RunOnceAsync(CancellationToken.None);
        Assert.Equal(PassOutcome.Refused, missing.Outcome);
        Assert.Contains("branch 'main' does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Null(missing.Report.OfflineSince);
    }

    [Fact]
    public async Task DamagedCacheWithAnOpenJournal_IsRebuiltBeforeRecovery()
    {
        var first = CommitFleet(ConfigMaps("a"), "first");
        using var api = new KubeApi(fixture.Server.Configuration);
        Assert.Equal(PassOutcome.Applied, (await NewReconciler(api).RunOnceAsync(CancellationToken.None)).Outcome);
        var second = CommitFleet(ConfigMaps("a", "b"), "second");

        // Power was cut mid-apply of the second revision; the cache's files came back empty, as unsynced
        // files do after a power loss on ext4.
        new Journal(_state).Write(new JournalRecord(second, first, TransactionPhase.Applying, DateTimeOffset.UtcNow));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_state, "repo.git"), "*", SearchOption.AllDirectories))
        {
            // Replaced, not truncated in place: a local clone hard-links the source repository's objects.
            File.Delete(file);
            File.WriteAllBytes(file, []);
        }

        // A new process, as after the reboot (libgit2 keeps packs it has read mapped within a process).
        var run = await ReconcilerProcess.ReconcileAsync(fixture.Server, _repo.Root, "main", _state, AgentNs);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.StartsWith("applied", run.Output, StringComparison.Ordinal);
        Assert.Equal(second, ReconcilerState.Load(_state).AppliedRevision);
        Assert.NotNull(await ConfigMapAsync(api, "b"));
        Assert.Equal(TransactionPhase.Committed, new Journal(_state).Read()!.Phase);
    }

    [Fact]
    public async Task PolicyThatCrashes_MarksTheRevisionFailed_WritesStatus_AndKeepsTheLastGood()
    {
        var good = CommitFleet(ConfigMaps("a"), "good");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);
        Assert.Equal(PassOutcome.Applied, (await reconciler.RunOnceAsync(CancellationToken.None)).Outcome);
        _repo.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  policies:\n    paths: [policies]\n");
        _repo.Write("policies/crash.js", """
            export const policy = { name: "crash", description: "throws from a getter the host reads", severity: "error" };
            export function validate(object) {
              return [{ get message() { throw new Error("boom"); }, path: "" }];
            }
            """);
        var bad = CommitFleet(ConfigMaps("a", "b"), "crashing policy");

        var result = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal((PassOutcome.Invalid, good, bad), (result.Outcome, result.AppliedRevision, result.AttemptedRevision));
        Assert.Contains("policies/crash.js", result.Message, StringComparison.Ordinal);
        Assert.Contains("EO6102", result.Message, StringComparison.Ordinal);
        Assert.Contains("boom", result.Message, StringComparison.Ordinal);
        Assert.Equal(bad, ReconcilerState.Load(_state).FailedRevision);
        Assert.Equal("Invalid", StatusReport.Read(Path.Combine(_state, "status.json"))!.Outcome);
        Assert.Null(await ConfigMapAsync(api, "b"));
        Assert.Contains(await EventsAsync(api), e => e.Reason == "Invalid");
        Assert.Equal(PassOutcome.Unchanged, (await reconciler.RunOnceAsync(CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task StatusAndEvents_AreWrittenForRefusalsAndApiFailures()
    {
        var first = CommitFleet(ConfigMaps("a"), "first");
        using var api = new KubeApi(fixture.Server.Configuration);
        Assert.Equal(PassOutcome.Applied, (await NewReconciler(api).RunOnceAsync(CancellationToken.None)).Outcome);
        var second = CommitFleet(ConfigMaps("a", "b"), "second");
        Assert.Equal(PassOutcome.Applied, (await NewReconciler(api).RunOnceAsync(CancellationToken.None)).Outcome);
        _repo.Git("reset", "-q", "--hard", first);

        var refused = await NewReconciler(api).RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Refused, second), (refused.Outcome, refused.AppliedRevision));
        Assert.Equal("Refused", StatusReport.Read(Path.Combine(_state, "status.json"))!.Outcome);
        Assert.Contains(await EventsAsync(api), e => e.Reason == "Refused" && e.Message.Contains("not a descendant", StringComparison.Ordinal));
        var configMaps = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        var published = await api.GetAsync(configMaps, AgentNs, StatusPublisher.ConfigMapName, CancellationToken.None);
        Assert.Equal("Refused", published!["data"]!["outcome"]!.ToString());

        // An API server that answers nothing but errors: a Failed pass, still reported on disk.
        await using var proxy = new FaultProxy(fixture.Server.ServerUri, (_, _) => FaultKind.ServerError);
        using var broken = new KubeApi(new KubeConnection { Server = new Uri(proxy.Uri.ToString()), Token = fixture.Server.Token, SkipTlsVerify = true },
            new KubeApiOptions { InitialBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(10), MaxAttempts = 2 });
        var failed = await NewReconciler(broken).RunOnceAsync(CancellationToken.None);
        Assert.Equal(PassOutcome.Failed, failed.Outcome);
        var report = StatusReport.Read(Path.Combine(_state, "status.json"))!;
        Assert.Equal(("Failed", "False"), (report.Outcome, report.Conditions.Single(c => c.Type == "Ready").Status));
    }

    public void Dispose()
    {
        _repo.Dispose();
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }
}

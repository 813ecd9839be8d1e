using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;
using Xunit.Abstractions;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>
/// Power loss in the middle of a transaction: the real edgeops process is killed with SIGKILL at a
/// named point of a pass, then started again; after the restart the objects in the cluster must be
/// exactly those of the old revision or exactly those of the new one.
/// </summary>
[Collection("kube")]
public sealed class CrashRecoveryTests(KubeServerFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly TempFleet _repo = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _stateDirs = [];

    private string Ns => $"crash-{_suffix}";

    private static string Workload(string ns, string manifests) => $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\n{manifests}";

    private (string A, string B, string C) CommitRevisions()
    {
        _repo.Cluster("edge-1", "tier: far");
        _repo.Workload("app", manifest: Workload(Ns, """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: a, namespace: NS}
            data: {version: "1"}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: b, namespace: NS}
            data: {only: in-a}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: s, namespace: NS}
            spec: {ports: [{port: 80}], selector: {app: s}}
            """.Replace("NS", Ns, StringComparison.Ordinal)));
        var a = _repo.Commit("A");
        _repo.Workload("app", manifest: Workload(Ns, """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: a, namespace: NS}
            data: {version: "2"}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: c, namespace: NS}
            data: {only: in-b}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: s, namespace: NS}
            spec: {ports: [{port: 80}, {port: 81, name: extra}], selector: {app: s}}
            """.Replace("NS", Ns, StringComparison.Ordinal)).Replace("ports: [{port: 80}, {port: 81, name: extra}]", "ports: [{port: 80, name: web}, {port: 81, name: extra}]", StringComparison.Ordinal));
        var b = _repo.Commit("B");
        _repo.Git("checkout", "-q", "-b", "c-line", a);
        _repo.Workload("app", manifest: Workload(Ns, """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: a, namespace: NS}
            data: {version: "3"}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: d, namespace: NS}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata: {name: never-finishes, namespace: NS}
            spec:
              backoffLimit: 0
              activeDeadlineSeconds: 1
              template:
                spec:
                  restartPolicy: Never
                  containers: [{name: j, image: "busybox:1.36"}]
            """.Replace("NS", Ns, StringComparison.Ordinal)));
        var c = _repo.Commit("C: fails its health check");
        _repo.Git("checkout", "-q", "main");
        return (a, b, c);
    }

    /// <summary>Every object the fleet owns in the namespace, by kind.</summary>
    private async Task<List<(string Kind, JsonObject Item)>> OwnedAsync()
    {
        using var api = new KubeApi(fixture.Server.Configuration);
        var owned = new List<(string, JsonObject)>();
        foreach (var (apiVersion, kind) in new[] { ("v1", "ConfigMap"), ("v1", "Service"), ("batch/v1", "Job") })
        {
            var resource = (await api.ResolveAsync(apiVersion, kind, CancellationToken.None))!;
            owned.AddRange((await api.ListAsync(resource, Ns, "edgeops.io/fleet=test-fleet", CancellationToken.None)).Select(item => (kind, item)));
        }

        return owned;
    }

    /// <summary>Names of the objects the fleet owns in the namespace, with the content that tells revisions apart.</summary>
    private async Task<string> LiveAsync() => string.Join("; ", (await OwnedAsync()).Select(o =>
    {
        var detail = o.Kind switch
        {
            "ConfigMap" => o.Item["data"]?.ToJsonString() ?? "{}",
            "Service" => string.Join(",", (o.Item["spec"]!["ports"] as JsonArray)!.Select(p => p!["port"]!.ToString())),
            _ => string.Empty,
        };
        return $"{o.Kind}/{o.Item["metadata"]!["name"]} {detail}";
    }).Order(StringComparer.Ordinal));

    private const string StateA = """ConfigMap/a {"version":"1"}; ConfigMap/b {"only":"in-a"}; Service/s 80""";
    private const string StateB = """ConfigMap/a {"version":"2"}; ConfigMap/c {"only":"in-b"}; Service/s 80,81""";

    private static readonly (string Point, int Skip)[] Forward =
    [
        ("pass:start", 0),
        ("journal:applying", 0),
        ("apply:inventory-pending", 0),
        ("apply:stage:1", 0),
        ("apply:stage:3", 0),
        ("apply:object:*", 0),
        ("apply:object:*", 1),
        ("apply:object:*", 2),
        ("apply:object:*", 3),
        ("apply:prune:*", 0),
        ("apply:inventory", 0),
        ("apply:done", 0),
        ("journal:applied", 0),
        ("health:done", 0),
        ("journal:committed", 0),
        ("state:saved", 0),
    ];

    private static readonly (string Point, int Skip)[] Rollback =
    [
        ("health:done", 0),
        ("journal:rolling-back", 0),
        ("rollback:apply:stage:3", 0),
        ("rollback:apply:object:*", 0),
        ("rollback:apply:object:*", 1),
        ("rollback:apply:prune:*", 0),
        ("rollback:apply:prune:*", 1),
        ("rollback:apply:inventory", 0),
        ("rollback:done", 0),
        ("journal:rolled-back", 0),
    ];

    /// <summary>Every crash point, for the framework-dependent build and for the NativeAOT build the agent ships as.</summary>
    public static TheoryData<string, int, Agent> ForwardPoints() => Cross(Forward);

    public static TheoryData<string, int, Agent> RollbackPoints() => Cross(Rollback);

    private static TheoryData<string, int, Agent> Cross((string Point, int Skip)[] points)
    {
        var data = new TheoryData<string, int, Agent>();
        foreach (var agent in new[] { Agent.Jit, Agent.Aot })
        {
            foreach (var (point, skip) in points)
            {
                data.Add(point, skip, agent);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ForwardPoints))]
    public async Task KilledWhileApplying_RestartEndsAtTheOldOrTheNewRevisionExactly(string point, int skip, Agent agent)
    {
        var (a, b, _) = CommitRevisions();
        var state = NewStateDir();
        _repo.Git("branch", "-q", "-f", "edge", a);
        var first = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "edge", state, "edgeops-" + _suffix);
        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Assert.Equal(StateA, await LiveAsync());
        var wholeA = await WholeObjectsAsync();

        _repo.Git("branch", "-q", "-f", "edge", b);
        var killed = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "edge", state, "edgeops-" + _suffix, point, skip);
        Assert.True(killed.Killed, $"the pass was not killed at {point} (exit {killed.ExitCode}): {killed.Output}{killed.Error}");
        var between = await LiveAsync();

        var restarted = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "edge", state, "edgeops-" + _suffix);
        output.WriteLine($"{point}#{skip}: after the kill [{between}]; after the restart: {restarted.Output.Trim()}");
        Assert.True(restarted.ExitCode == 0, restarted.Output + restarted.Error);
        var live = await LiveAsync();
        Assert.True(live is StateA or StateB, $"after a kill at {point}#{skip} the cluster holds neither revision: {live}");
        Assert.Equal(StateB, live); // the restart finished or redid the transaction
        await AssertRecordsAgreeAsync(state, b);

        // Whole objects: what the crash and the restart left equals B applied cleanly (after going back to A, which
        // must equal the A first applied).
        var recovered = await WholeObjectsAsync();
        _repo.Git("branch", "-q", "-f", "edge", a);
        Assert.Equal(0, (await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "edge", state, "edgeops-" + _suffix, null, 0, "--allow-rollback")).ExitCode);
        Assert.Equal(wholeA, await WholeObjectsAsync());
        _repo.Git("branch", "-q", "-f", "edge", b);
        Assert.Equal(0, (await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "edge", state, "edgeops-" + _suffix)).ExitCode);
        Assert.Equal(await WholeObjectsAsync(), recovered);
    }

    /// <summary>Every object the fleet owns in the namespace, whole, less what the server sets (identity, versions, status, cluster IPs).</summary>
    private async Task<string> WholeObjectsAsync() => string.Join("\n", (await OwnedAsync()).Select(o =>
    {
        var metadata = o.Item["metadata"]!.AsObject();
        foreach (var serverSet in new[] { "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink" })
        {
            metadata.Remove(serverSet);
        }

        o.Item.Remove("status");
        if (o.Item["spec"] is JsonObject spec)
        {
            spec.Remove("clusterIP");
            spec.Remove("clusterIPs");
        }

        return o.Item.ToJsonString();
    }).Order(StringComparer.Ordinal));

    /// <summary>What the agent remembers (state.json, the journal, the inventory in the cluster) names the revision the cluster holds.</summary>
    private async Task AssertRecordsAgreeAsync(string state, string revision)
    {
        Assert.Equal(revision, EdgeOps.Reconciler.Pipeline.ReconcilerState.Load(state).AppliedRevision);
        var journal = new EdgeOps.Reconciler.Transactions.Journal(state).Read();
        Assert.True(journal is null || EdgeOps.Reconciler.Transactions.Journal.Decide(journal) == EdgeOps.Reconciler.Transactions.RecoveryAction.None,
            $"a transaction is still open after the restart: {journal}");
        using var api = new KubeApi(fixture.Server.Configuration);
        var inventory = await new EdgeOps.Reconciler.Apply.InventoryStore(api, "edgeops-" + _suffix).LoadAsync(CancellationToken.None);
        Assert.Equal(revision, inventory.Revision);
    }

    [Theory]
    [MemberData(nameof(RollbackPoints))]
    public async Task KilledWhileRollingBack_RestartEndsAtTheOldRevisionExactly(string point, int skip, Agent agent)
    {
        var (a, _, c) = CommitRevisions();
        var state = NewStateDir();
        _repo.Git("branch", "-q", "-f", "edge", a);
        Assert.Equal(0, (await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "edge", state, "edgeops-" + _suffix)).ExitCode);
        var wholeA = await WholeObjectsAsync();

        _repo.Git("branch", "-q", "-f", "edge", c);
        var killed = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "edge", state, "edgeops-" + _suffix, point, skip, "--health-timeout", "20s");
        Assert.True(killed.Killed, $"the pass was not killed at {point} (exit {killed.ExitCode}): {killed.Output}{killed.Error}");

        var restarted = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "edge", state, "edgeops-" + _suffix, null, 0, "--health-timeout", "20s");
        output.WriteLine($"{point}#{skip}: after the restart: {restarted.Output.Trim()}");
        var live = await LiveAsync();
        Assert.True(live == StateA, $"after a kill at {point}#{skip} and a restart the cluster should hold revision A: {live} ({restarted.Output}{restarted.Error})");
        Assert.Equal(wholeA, await WholeObjectsAsync());
        await AssertRecordsAgreeAsync(state, a);
    }

    private string NewStateDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "edgeops-crash-" + Guid.NewGuid().ToString("N")[..10]);
        _stateDirs.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        _repo.Dispose();
        foreach (var dir in _stateDirs)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
                File.Delete(dir + "-kubeconfig");
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task CrashVariable_WithoutTheTestingSwitch_IsIgnoredLoudly()
    {
        var state = Path.Combine(Path.GetTempPath(), "edgeops-unarmed-" + _suffix);
        try
        {
            var (a, _, _) = CommitRevisions();
            _repo.Git("branch", "-q", "-f", "edge", a);
            var run = await ReconcilerProcess.RunAsync(fixture.Server, _repo.Root, "edge", state, "edgeops-" + _suffix,
                new Dictionary<string, string> { ["EDGEOPS_CRASH_AT"] = "journal:applying" });

            Assert.False(run.Killed);
            Assert.True(run.ExitCode == 0, run.Output + run.Error);
            Assert.Contains("EDGEOPS_CRASH_AT is set but ignored", run.Error, StringComparison.Ordinal);
            Assert.Equal(a, EdgeOps.Reconciler.Pipeline.ReconcilerState.Load(state).AppliedRevision);
        }
        finally
        {
            if (Directory.Exists(state))
            {
                Directory.Delete(state, recursive: true);
            }
        }
    }
}

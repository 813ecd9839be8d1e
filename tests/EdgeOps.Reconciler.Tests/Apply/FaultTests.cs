using System.Diagnostics;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Tests.Infrastructure;

namespace EdgeOps.Reconciler.Tests.Apply;

/// <summary>
/// Faults between the engine and the real API server: the engine retries idempotently, never
/// duplicates an effect, and reports what it could not do.
/// </summary>
[Collection("kube")]
public sealed class FaultTests(KubeServerFixture fixture)
{
    private const string Objects = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: faults-${n}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: one, namespace: faults-${n}}
        data: {a: "1"}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: two, namespace: faults-${n}}
        data: {b: "2"}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: faults-${n}}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: "nginx:1.27"}]
        """;

    /// <summary>Reads the objects directly (not through the proxy): each exists, and the Deployment was written once.</summary>
    private static async Task AssertAppliedOnceAsync(KubeTestContext direct, string suffix)
    {
        var deployment = await direct.GetAsync("apps/v1", "Deployment", $"faults-{suffix}", "web");
        Assert.True(deployment is not null, $"no deployment faults-{suffix}/web");
        Assert.Equal(1, (long)deployment!["metadata"]!["generation"]!);
        Assert.NotNull(await direct.GetAsync("v1", "ConfigMap", $"faults-{suffix}", "one"));
        Assert.NotNull(await direct.GetAsync("v1", "ConfigMap", $"faults-{suffix}", "two"));
    }

    [Theory]
    [InlineData(FaultKind.ServerError)]
    [InlineData(FaultKind.Drop)]
    [InlineData(FaultKind.Delay)]
    public async Task Apply_ThroughIntermittentFaults_AppliesEverythingOnce(FaultKind fault)
    {
        await using var proxy = new FaultProxy(fixture.Server.ServerUri, (n, _) => n % 2 == 0 ? fault : FaultKind.None) { Delay = TimeSpan.FromMilliseconds(150) };
        using var test = new KubeTestContext(fixture.Server, proxy.Uri.ToString());

        var result = await test.Engine.ApplyAsync(test.Objects(Objects), test.Options(), CancellationToken.None);

        Assert.False(result.ChangeSet.HasFailures, string.Join("\n", result.ChangeSet.Changes.Select(c => $"{c.Id} {c.Action} {c.Reason}")));
        Assert.True(proxy.Faults > 0);
        Assert.Equal(4, result.ChangeSet.Changes.Count(c => c.Action is ChangeAction.Created or ChangeAction.Configured));
        using var direct = new KubeTestContext(fixture.Server);
        await AssertAppliedOnceAsync(direct, test.Suffix);

        // Counted at the proxy, object by object: however many times a write was sent, it took effect once.
        var ns = $"faults-{test.Suffix}";
        foreach (var path in new[] { $"/api/v1/namespaces/{ns}", $"/api/v1/namespaces/{ns}/configmaps/one", $"/api/v1/namespaces/{ns}/configmaps/two", $"/apis/apps/v1/namespaces/{ns}/deployments/web" })
        {
            Assert.True(proxy.WritesTo(path) >= 1, $"no write reached {path}");
            Assert.True(proxy.EffectiveWrites(path) == 1, $"{path}: {proxy.EffectiveWrites(path)} effective writes from {proxy.WritesTo(path)} requests");
        }
    }

    [Fact]
    public async Task Apply_TooManyRequests_WaitsForRetryAfter()
    {
        await using var proxy = new FaultProxy(fixture.Server.ServerUri, (n, _) => n <= 2 ? FaultKind.TooManyRequests : FaultKind.None);
        using var test = new KubeTestContext(fixture.Server, proxy.Uri.ToString());
        var stopwatch = Stopwatch.StartNew();

        var result = await test.Engine.ApplyAsync(test.Objects(Objects), test.Options(), CancellationToken.None);

        Assert.False(result.ChangeSet.HasFailures);
        Assert.Equal(2, proxy.Faults);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(1.9), $"took {stopwatch.Elapsed}; Retry-After: 1 was not honoured twice");
    }

    [Fact]
    public async Task Apply_ObjectTheServerNeverAccepts_IsReportedAndTheOthersApply()
    {
        await using var proxy = new FaultProxy(fixture.Server.ServerUri,
            (_, request) => request.HttpMethod == "PATCH" && request.RawUrl!.Contains("/configmaps/two", StringComparison.Ordinal) ? FaultKind.ServerError : FaultKind.None);
        using var test = new KubeTestContext(fixture.Server, proxy.Uri.ToString());

        var result = await test.Engine.ApplyAsync(test.Objects(Objects), test.Options(), CancellationToken.None);

        var failed = Assert.Single(result.ChangeSet.Changes, c => c.Action == ChangeAction.Failed);
        Assert.Equal("two", failed.Id.Name);
        Assert.StartsWith("API server unavailable:", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(3, result.ChangeSet.Count(ChangeAction.Created));
        Assert.DoesNotContain(result.Inventory.Entries, e => e.Name == "two");
    }

    [Fact]
    public async Task Apply_NoOpPass_SendsNoWriteRequests()
    {
        await using var proxy = new FaultProxy(fixture.Server.ServerUri);
        using var test = new KubeTestContext(fixture.Server, proxy.Uri.ToString());
        await test.Engine.ApplyAsync(test.Objects(Objects), test.Options("r1"), CancellationToken.None);
        var writes = proxy.Writes;

        var again = await test.Engine.ApplyAsync(test.Objects(Objects), test.Options("r1"), CancellationToken.None);

        Assert.Equal(4, again.ChangeSet.Count(ChangeAction.Unchanged));
        Assert.Equal(writes, proxy.Writes);
    }

    [Fact]
    public async Task Apply_NoOpPass_ReadsManyObjectsOfAKindWithOneList_AndStillSeesAHandEdit()
    {
        var many = "apiVersion: v1\nkind: Namespace\nmetadata: {name: list-${n}}\n" + string.Concat(Enumerable.Range(0, 40).Select(i =>
            $"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: list-${{n}}}}\ndata: {{i: \"{i}\"}}\n"));
        await using var proxy = new FaultProxy(fixture.Server.ServerUri);
        using var test = new KubeTestContext(fixture.Server, proxy.Uri.ToString());
        await test.Engine.ApplyAsync(test.Objects(many), test.Options("r1"), CancellationToken.None);
        var (gets, writes) = (proxy.Count("GET"), proxy.Writes);

        var again = await test.Engine.ApplyAsync(test.Objects(many), test.Options("r1"), CancellationToken.None);
        var readsOfANoOp = proxy.Count("GET") - gets;
        var configMaps = (await test.Api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        var handEdit = $"{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"cm-7\",\"namespace\":\"list-{test.Suffix}\"}},\"data\":{{\"i\":\"changed by hand\"}}}}";
        Assert.True((await test.Api.ApplyAsync(configMaps, $"list-{test.Suffix}", "cm-7", handEdit, "kubectl-edit", force: true, CancellationToken.None)).IsSuccess);
        var corrected = await test.Engine.ApplyAsync(test.Objects(many), test.Options("r1"), CancellationToken.None);

        Assert.Equal(41, again.ChangeSet.Count(ChangeAction.Unchanged));
        Assert.Equal(writes, proxy.Writes - (corrected.ChangeSet.Count(ChangeAction.Configured) + 1)); // no write but the hand edit and its correction
        Assert.InRange(readsOfANoOp, 1, 6); // the inventory, a list of the ConfigMaps, the namespace: not 41 GETs
        Assert.Equal(("cm-7", ChangeAction.Configured), corrected.ChangeSet.Changes.Where(c => c.Action == ChangeAction.Configured).Select(c => (c.Id.Name, c.Action)).Single());
    }
}

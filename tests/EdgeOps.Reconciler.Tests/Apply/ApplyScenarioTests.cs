using System.Net;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Health;
using EdgeOps.Reconciler.Tests.Infrastructure;

namespace EdgeOps.Reconciler.Tests.Apply;

[Collection("kube")]
public sealed class ApplyScenarioTests(KubeServerFixture fixture)
{
    private const string Crd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: gadgets-${n}.example.com
        spec:
          group: example.com
          scope: Namespaced
          names: {kind: Gadget${n}, plural: gadgets-${n}, singular: gadget-${n}, listKind: Gadget${n}List}
          versions:
            - name: v1
              served: true
              storage: true
              subresources: {status: {}}
              schema:
                openAPIV3Schema:
                  type: object
                  properties:
                    spec: {type: object, properties: {size: {type: integer}}}
                    status: {type: object, x-kubernetes-preserve-unknown-fields: true}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: crd-${n}}
        ---
        apiVersion: example.com/v1
        kind: Gadget${n}
        metadata: {name: first, namespace: crd-${n}}
        spec: {size: 3}
        """;

    [Fact]
    [Trait("Category", "RealCluster")]
    public async Task Apply_CrdAndItsCustomResourceInOneApply_WaitsForTheCrd()
    {
        using var test = new KubeTestContext(fixture.Server);

        var result = await test.Engine.ApplyAsync(test.Objects(Crd), test.Options(), CancellationToken.None);

        Assert.False(result.ChangeSet.HasFailures, string.Join("\n", result.ChangeSet.Changes.Select(c => $"{c.Id} {c.Action} {c.Reason}")));
        Assert.Equal(3, result.ChangeSet.Count(ChangeAction.Created));
        var gadget = await test.GetAsync("example.com/v1", $"Gadget{test.Suffix}", $"crd-{test.Suffix}", "first");
        Assert.Equal(3, (int)gadget!["spec"]!["size"]!);
    }

    [Fact]
    [Trait("Category", "RealCluster")]
    public async Task Apply_FieldOwnedByAnotherManager_IsTakenBack_AsGitIsTheSourceOfTruth()
    {
        using var test = new KubeTestContext(fixture.Server);
        var manifest = "apiVersion: v1\nkind: Namespace\nmetadata: {name: conflict-${n}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: conflict-${n}}\ndata: {level: info}\n";
        await test.Engine.ApplyAsync(test.Objects(manifest), test.Options(), CancellationToken.None);
        var configMaps = (await test.Api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        var other = await test.Api.ApplyAsync(configMaps, $"conflict-{test.Suffix}", "shared",
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"shared\",\"namespace\":\"conflict-" + test.Suffix + "\"},\"data\":{\"level\":\"warn\"}}",
            "someone-else", force: true, CancellationToken.None);
        Assert.True(other.IsSuccess, other.Message);

        var changed = test.Objects(manifest.Replace("level: info", "level: debug", StringComparison.Ordinal));
        var taken = await test.Engine.ApplyAsync(changed, test.Options(), CancellationToken.None);

        Assert.False(taken.ChangeSet.HasFailures);
        var live = (await test.GetAsync("v1", "ConfigMap", $"conflict-{test.Suffix}", "shared"))!;
        Assert.Equal("debug", live["data"]!["level"]!.ToString());
        var owners = live["metadata"]!["managedFields"]!.AsArray().Where(m => m!["fieldsV1"]!.ToJsonString().Contains("f:level", StringComparison.Ordinal)).Select(m => m!["manager"]!.ToString());
        Assert.Equal(["edgeops"], owners);
    }

    [Fact]
    [Trait("Category", "RealCluster")]
    public async Task Apply_ObjectTheServerRejects_FailsWithTheManifestLine_AndTheRestApplies()
    {
        using var test = new KubeTestContext(fixture.Server);
        var manifest = "apiVersion: v1\nkind: Namespace\nmetadata: {name: invalid-${n}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: invalid-${n}}\nspec:\n  ports: [{port: 99999}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: good, namespace: invalid-${n}}\n";

        var result = await test.Engine.ApplyAsync(test.Objects(manifest, "workloads/app/bad.yaml"), test.Options(), CancellationToken.None);

        var failed = Assert.Single(result.ChangeSet.Changes, c => c.Action == ChangeAction.Failed);
        Assert.Equal("Service", failed.Id.Kind);
        Assert.Equal("workloads/app/bad.yaml:5:1", failed.Location.ToString());
        Assert.Contains("Invalid", failed.Reason, StringComparison.Ordinal);
        Assert.NotNull(await test.GetAsync("v1", "ConfigMap", $"invalid-{test.Suffix}", "good"));
    }

    [Fact]
    [Trait("Category", "RealCluster")]
    public async Task Apply_ImmutableFieldChange_RecreatesOnlyWhenAllowed()
    {
        using var test = new KubeTestContext(fixture.Server);
        const string Job = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: jobs-${n}}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata: {name: migrate, namespace: jobs-${n}ANNOTATIONS}
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers: [{name: m, image: "busybox:TAG"}]
            """;
        string Manifest(string tag, bool allowRecreate) => Job.Replace("TAG", tag, StringComparison.Ordinal)
            .Replace("ANNOTATIONS", allowRecreate ? ", annotations: {edgeops.io/recreate: \"true\"}" : string.Empty, StringComparison.Ordinal);

        Assert.False((await test.Engine.ApplyAsync(test.Objects(Manifest("1.35", false)), test.Options(), CancellationToken.None)).ChangeSet.HasFailures);
        var refused = await test.Engine.ApplyAsync(test.Objects(Manifest("1.36", false)), test.Options(), CancellationToken.None);
        Assert.Contains("immutable", Assert.Single(refused.ChangeSet.Changes, c => c.Action == ChangeAction.Failed).Reason, StringComparison.Ordinal);

        var recreated = await test.Engine.ApplyAsync(test.Objects(Manifest("1.36", true)), test.Options(), CancellationToken.None);
        var job = Assert.Single(recreated.ChangeSet.Changes, c => c.Id.Kind == "Job");
        Assert.Equal((ChangeAction.Configured, "recreated: an immutable field changed"), (job.Action, job.Reason));
        var live = await test.GetAsync("batch/v1", "Job", $"jobs-{test.Suffix}", "migrate");
        Assert.Equal("busybox:1.36", live!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString());
    }

    [Fact]
    [Trait("Category", "RealCluster")]
    public async Task Prune_Namespace_IsDeletedWithItsContents()
    {
        using var test = new KubeTestContext(fixture.Server);
        var manifest = "apiVersion: v1\nkind: Namespace\nmetadata: {name: gone-${n}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: gone-${n}}\n";
        await test.Engine.ApplyAsync(test.Objects(manifest), test.Options(), CancellationToken.None);

        var result = await test.Engine.ApplyAsync([], test.Options(), CancellationToken.None);

        Assert.Equal(["ConfigMap:Deleted", "Namespace:Deleted"], result.ChangeSet.Changes.Select(c => $"{c.Id.Kind}:{c.Action}"));
        Assert.Empty(result.Inventory.Entries);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await test.GetAsync("v1", "Namespace", null, $"gone-{test.Suffix}") is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.Null(await test.GetAsync("v1", "Namespace", null, $"gone-{test.Suffix}"));
    }

    [Fact]
    [Trait("Category", "RealCluster")]
    public async Task Prune_ObjectNoLongerOwned_IsKept()
    {
        using var test = new KubeTestContext(fixture.Server);
        var manifest = "apiVersion: v1\nkind: Namespace\nmetadata: {name: adopt-${n}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: adopt-${n}}\n";
        await test.Engine.ApplyAsync(test.Objects(manifest), test.Options(), CancellationToken.None);
        var configMaps = (await test.Api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        await test.Api.RawAsync(HttpMethod.Patch, configMaps.Path($"adopt-{test.Suffix}", "c"), """{"metadata":{"labels":{"edgeops.io/fleet":"another-fleet"}}}""",
            "application/merge-patch+json", CancellationToken.None);

        var result = await test.Engine.ApplyAsync(test.Objects(manifest.Split("---")[0]), test.Options(), CancellationToken.None);

        var kept = Assert.Single(result.ChangeSet.Changes, c => c.Id.Kind == "ConfigMap");
        Assert.Contains("not owned", kept.Reason, StringComparison.Ordinal);
        Assert.NotNull(await test.GetAsync("v1", "ConfigMap", $"adopt-{test.Suffix}", "c"));
    }

    [Fact]
    [Trait("Category", "RealCluster")]
    public async Task Rollback_AfterAHealthFailure_RestoresThePreviousObjectsExactly()
    {
        using var test = new KubeTestContext(fixture.Server);
        var ns = $"roll-{test.Suffix}";
        const string V1 = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: roll-${n}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: roll-${n}}
            data: {level: info}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: roll-${n}}
            spec:
              replicas: 1
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: web, image: "nginx:1.26"}]
            """;
        var v2 = V1.Replace("level: info", "level: debug, feature: \"on\"", StringComparison.Ordinal)
            .Replace("nginx:1.26", "nginx:1.27", StringComparison.Ordinal)
            + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: roll-${n}}\n";
        var health = new HealthChecker(test.Api);

        var first = await test.Engine.ApplyAsync(test.Objects(V1), test.Options("v1"), CancellationToken.None);
        Assert.False(first.ChangeSet.HasFailures);
        var deployments = (await test.Api.ResolveAsync("apps/v1", "Deployment", CancellationToken.None))!;
        await Kubelet.MarkDeploymentAvailableAsync(test.Api, deployments, ns, "web");
        Assert.True((await health.WaitAsync([.. test.Objects(V1).Select(o => o.Id with { Namespace = o.Id.Namespace })], TimeSpan.FromSeconds(10), CancellationToken.None)).Healthy);
        var before = await Snapshot(test, ns);

        var second = await test.Engine.ApplyAsync(test.Objects(v2), test.Options("v2"), CancellationToken.None);
        Assert.False(second.ChangeSet.HasFailures);
        var report = await health.WaitAsync([.. test.Objects(v2).Select(o => o.Id)], TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.False(report.Healthy);
        Assert.Equal("Deployment", report.Culprit!.Id.Kind);
        Assert.StartsWith("not ready within 2s", report.Culprit.Reason, StringComparison.Ordinal);

        var rollback = await test.Engine.RollbackAsync(test.Objects(V1), test.Options("v1"), CancellationToken.None);

        Assert.False(rollback.ChangeSet.HasFailures);
        Assert.Contains(rollback.ChangeSet.Changes, c => c.Id.Name == "extra" && c.Action == ChangeAction.Deleted);
        Assert.Equal(before, await Snapshot(test, ns));
        Assert.Equal("v1", (await test.Engine.InventoryAsync(CancellationToken.None)).Revision);
    }

    /// <summary>The desired-state fields of every object in a namespace, for before/after comparison.</summary>
    private static async Task<string> Snapshot(KubeTestContext test, string ns)
    {
        var lines = new List<string>();
        foreach (var (apiVersion, kind) in new[] { ("v1", "ConfigMap"), ("apps/v1", "Deployment") })
        {
            var resource = (await test.Api.ResolveAsync(apiVersion, kind, CancellationToken.None))!;
            foreach (var item in await test.Api.ListAsync(resource, ns, "edgeops.io/fleet=test-fleet", CancellationToken.None))
            {
                var name = item["metadata"]!["name"]!.ToString();
                var content = kind == "ConfigMap" ? item["data"]?.ToJsonString() : item["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString();
                lines.Add($"{kind}/{name} {content}");
            }
        }

        return string.Join("\n", lines.Order(StringComparer.Ordinal));
    }
}

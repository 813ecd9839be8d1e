using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Tests.Infrastructure;

namespace EdgeOps.Reconciler.Tests.Apply;

[Collection("kube")]
[Trait("Category", "RealCluster")]
public sealed class ApplyEngineTests(KubeServerFixture fixture)
{
    private const string App = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: app-${n}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
          namespace: app-${n}
        data:
          level: info
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: app-${n}
        spec:
          selector: {app: web}
          ports: [{port: 80, targetPort: 8080}]
        """;

    [Fact]
    public async Task Apply_CreateThenUnchangedThenConfigureThenPrune()
    {
        using var test = new KubeTestContext(fixture.Server);

        var first = await test.Engine.ApplyAsync(test.Objects(App), test.Options("r1"), CancellationToken.None);
        Assert.False(first.ChangeSet.HasFailures, first.ChangeSet.ToString() + string.Join("\n", first.ChangeSet.Changes.Select(c => c.Reason)));
        Assert.Equal(3, first.ChangeSet.Count(ChangeAction.Created));

        var writesBefore = test.Api.Counters.Writes;
        var second = await test.Engine.ApplyAsync(test.Objects(App), test.Options("r1"), CancellationToken.None);
        Assert.Equal(3, second.ChangeSet.Count(ChangeAction.Unchanged));
        Assert.Equal(0, test.Api.Counters.Writes - writesBefore);

        var changed = App.Replace("level: info", "level: debug", StringComparison.Ordinal);
        var withoutService = changed[..changed.IndexOf("---\napiVersion: v1\nkind: Service", StringComparison.Ordinal)];
        var third = await test.Engine.ApplyAsync(test.Objects(withoutService), test.Options("r2"), CancellationToken.None);
        Assert.Equal(["Namespace:Unchanged", "ConfigMap:Configured", "Service:Deleted"], third.ChangeSet.Changes.Select(c => $"{c.Id.Kind}:{c.Action}"));

        var cm = await test.GetAsync("v1", "ConfigMap", $"app-{test.Suffix}", "settings");
        Assert.Equal("debug", cm!["data"]!["level"]!.ToString());
        Assert.Null(await test.GetAsync("v1", "Service", $"app-{test.Suffix}", "web"));
        var inventory = await test.Engine.InventoryAsync(CancellationToken.None);
        Assert.Equal("r2", inventory.Revision);
        Assert.Equal(["ConfigMap", "Namespace"], inventory.Entries.Select(e => e.Kind).Order());
    }
}

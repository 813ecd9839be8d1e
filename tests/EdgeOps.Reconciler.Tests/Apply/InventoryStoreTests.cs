using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Tests.Infrastructure;

namespace EdgeOps.Reconciler.Tests.Apply;

/// <summary>The record of what was applied, in its ConfigMap on the real API server.</summary>
[Collection("kube")]
public sealed class InventoryStoreTests(KubeServerFixture fixture)
{
    private static ImmutableArray<InventoryEntry> Entries(int count, string prefix = "a-widget-with-a-name-as-long-as-people-give-them-in-real-fleets") =>
        [.. Enumerable.Range(0, count).Select(i => new InventoryEntry("widgets.example.com/v1", "Widget", "orchard-robots",
            $"{prefix}-{i:00000}", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{prefix}{i}")))))];

    [Fact]
    public async Task AnInventoryOfThousandsOfLongNamedObjects_FitsItsConfigMap_AndReadsBackTheSame()
    {
        // As the plain JSON earlier agents wrote, 5,000 such entries were 2.3 MB: the API server refused the ConfigMap, and no pass could apply.
        using var context = new KubeTestContext(fixture.Server);
        var inventory = new Inventory("3f2a9c", Entries(5000));

        await context.Store.SaveAsync(inventory, CancellationToken.None);
        var loaded = await context.Store.LoadAsync(CancellationToken.None);

        Assert.Equal("3f2a9c", loaded.Revision);
        Assert.Equal(inventory.Entries.OrderBy(e => e.Name, StringComparer.Ordinal), loaded.Entries);
    }

    [Fact]
    public async Task AnInventoryAnEarlierAgentWroteAsPlainJson_IsRead_ThenRewrittenPacked()
    {
        using var context = new KubeTestContext(fixture.Server);
        var entries = Entries(3);
        var configMaps = (await context.Api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        await context.Store.SaveAsync(Inventory.Empty, CancellationToken.None); // creates the namespace
        var old = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = "edgeops-inventory", ["namespace"] = context.Store.Namespace },
            ["data"] = new JsonObject
            {
                ["revision"] = "old",
                ["inventory"] = System.Text.Json.JsonSerializer.Serialize(entries.ToList(), Serialization.InventoryJson.Default.ListInventoryEntry),
            },
        };
        await context.Api.ApplyAsync(configMaps, context.Store.Namespace, "edgeops-inventory", old.ToJsonString(), "edgeops", force: true, CancellationToken.None);

        var read = await context.Store.LoadAsync(CancellationToken.None);
        await context.Store.SaveAsync(read with { Revision = "new" }, CancellationToken.None);
        var live = (await context.Api.GetAsync(configMaps, context.Store.Namespace, "edgeops-inventory", CancellationToken.None))!;

        Assert.Equal("old", read.Revision);
        Assert.Equal(entries.AsEnumerable(), read.Entries.AsEnumerable());
        Assert.Null(live["data"]!["inventory"]);
        Assert.NotNull(live["binaryData"]![InventoryStore.EntriesKey]);
        Assert.Equal(entries.AsEnumerable(), (await context.Store.LoadAsync(CancellationToken.None)).Entries.AsEnumerable());
    }

    [Fact]
    public async Task ADamagedInventory_StopsThePassInWords_InsteadOfGuessingWhatToPrune()
    {
        using var context = new KubeTestContext(fixture.Server);
        await context.Store.SaveAsync(new Inventory("r", Entries(2)), CancellationToken.None);
        var configMaps = (await context.Api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        var damaged = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = "edgeops-inventory", ["namespace"] = context.Store.Namespace },
            ["binaryData"] = new JsonObject { [InventoryStore.EntriesKey] = Convert.ToBase64String(Encoding.UTF8.GetBytes("not gzip")) },
        };
        await context.Api.ApplyAsync(configMaps, context.Store.Namespace, "edgeops-inventory", damaged.ToJsonString(), "edgeops", force: true, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => context.Store.LoadAsync(CancellationToken.None));

        Assert.Contains($"the inventory ConfigMap {context.Store.Namespace}/edgeops-inventory is damaged", ex.Message, StringComparison.Ordinal);
        Assert.Contains("delete it to start over", ex.Message, StringComparison.Ordinal);
        Assert.True(Reconciler.Pipeline.Reconciler.IsEnvironmental(ex)); // a failed pass, not a crash
    }

    [Fact]
    public async Task AnInventoryNoConfigMapCanHold_IsRefusedInWords_BeforeAnythingIsSent()
    {
        using var context = new KubeTestContext(fixture.Server);

        var ex = await Assert.ThrowsAsync<ReconcilerException>(() => context.Store.SaveAsync(new Inventory("r", Entries(60_000)), CancellationToken.None));

        Assert.Contains("the record of what EdgeOps applied (60000 objects) needs", ex.Message, StringComparison.Ordinal);
        Assert.Contains("more than one ConfigMap holds (1 MiB)", ex.Message, StringComparison.Ordinal);
        var namespaces = (await context.Api.ResolveAsync("v1", "Namespace", CancellationToken.None))!;
        Assert.Null(await context.Api.GetAsync(namespaces, null, context.Store.Namespace, CancellationToken.None));
    }
}

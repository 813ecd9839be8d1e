using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Serialization;

namespace EdgeOps.Reconciler.Apply;

/// <summary>One object EdgeOps applied: its identity and the hash of the content it applied.</summary>
public sealed record InventoryEntry(string ApiVersion, string Kind, string? Namespace, string Name, string Hash)
{
    public ObjectIdentity Id
    {
        get
        {
            var slash = ApiVersion.IndexOf('/', StringComparison.Ordinal);
            return new ObjectIdentity(slash < 0 ? string.Empty : ApiVersion[..slash], slash < 0 ? ApiVersion : ApiVersion[(slash + 1)..], Kind, Namespace, Name);
        }
    }

    public static InventoryEntry For(ObjectIdentity id, string hash) => new(id.ApiVersion, id.Kind, id.Namespace, id.Name, hash);
}

/// <summary>What EdgeOps applied last, at which revision. Pruning removes only what is listed here.</summary>
public sealed record Inventory(string? Revision, ImmutableArray<InventoryEntry> Entries)
{
    public static readonly Inventory Empty = new(null, []);

    public InventoryEntry? Find(ObjectIdentity id) => Entries.FirstOrDefault(e => e.Id == id);
}

/// <summary>
/// Keeps the inventory in the cluster, in a ConfigMap in the reconciler's namespace, so a restarted
/// reconciler (or another process) finds what was applied.
/// </summary>
public sealed class InventoryStore(KubeApi api, string ns, string name = "edgeops-inventory")
{
    public string Namespace => ns;

    public async Task<Inventory> LoadAsync(CancellationToken cancellationToken)
    {
        var configMaps = await ConfigMapsAsync(cancellationToken).ConfigureAwait(false);
        var live = await api.GetAsync(configMaps, ns, name, cancellationToken).ConfigureAwait(false);
        var text = live?["data"]?["inventory"]?.GetValue<string>();
        if (text is null)
        {
            return Inventory.Empty;
        }

        var entries = JsonSerializer.Deserialize(text, InventoryJson.Default.ListInventoryEntry) ?? [];
        return new Inventory(live!["data"]?["revision"]?.GetValue<string>(), [.. entries]);
    }

    public async Task SaveAsync(Inventory inventory, CancellationToken cancellationToken)
    {
        var configMaps = await ConfigMapsAsync(cancellationToken).ConfigureAwait(false);
        var namespaces = await api.ResolveAsync("v1", "Namespace", cancellationToken).ConfigureAwait(false)
            ?? throw new KubeUnavailableException("the API server does not serve Namespaces");
        var nsBody = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } };
        KubeApi.EnsureSuccess(await api.ApplyAsync(namespaces, null, ns, nsBody.ToJsonString(), "edgeops", force: false, cancellationToken).ConfigureAwait(false), $"create namespace {ns}");
        var body = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "edgeops" } },
            ["data"] = new JsonObject
            {
                ["revision"] = inventory.Revision ?? string.Empty,
                ["inventory"] = JsonSerializer.Serialize(inventory.Entries.OrderBy(e => e.Kind, StringComparer.Ordinal).ThenBy(e => e.Namespace, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal).ToList(), InventoryJson.Default.ListInventoryEntry),
            },
        };
        var response = await api.ApplyAsync(configMaps, ns, name, body.ToJsonString(), "edgeops", force: true, cancellationToken).ConfigureAwait(false);
        KubeApi.EnsureSuccess(response, "save the inventory");
    }

    private async Task<ApiResource> ConfigMapsAsync(CancellationToken cancellationToken) =>
        await api.ResolveAsync("v1", "ConfigMap", cancellationToken).ConfigureAwait(false)
            ?? throw new KubeUnavailableException("the API server does not serve ConfigMaps");
}

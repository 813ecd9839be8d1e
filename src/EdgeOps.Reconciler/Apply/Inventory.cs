using System.Collections.Immutable;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Serialization;

namespace EdgeOps.Reconciler.Apply;

/// <summary>One object EdgeOps applied: its identity and the hash of the content it applied.</summary>
public sealed record InventoryEntry(string ApiVersion, string Kind, string? Namespace, string Name, string Hash)
{
    /// <summary>Computed from the fields above; not written (it doubled every entry of the stored inventory).</summary>
    [JsonIgnore]
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
/// reconciler (or another process) finds what was applied. The entries are JSON, gzipped, in
/// <c>binaryData</c>: a ConfigMap holds at most 1 MiB, which the plain JSON earlier agents wrote (each entry's
/// identity written out twice) filled at about 3,000 objects with long names; compressed, the content hashes
/// dominate and some 15,000 fit. One object, written at once, so
/// a crash never leaves half an inventory. Inventories written as plain JSON in <c>data.inventory</c> (by
/// earlier agents) are still read.
/// </summary>
public sealed class InventoryStore(KubeApi api, string ns, string name = "edgeops-inventory")
{
    /// <summary>The binaryData key of the gzipped JSON entries.</summary>
    public const string EntriesKey = "inventory.json.gz";

    /// <summary>What the entries may take, base64 included, leaving room under the API server's 1 MiB for the rest.</summary>
    public const int MaxEncodedBytes = 1_000_000;

    public string Namespace => ns;

    public async Task<Inventory> LoadAsync(CancellationToken cancellationToken)
    {
        var configMaps = await ConfigMapsAsync(cancellationToken).ConfigureAwait(false);
        var live = await api.GetAsync(configMaps, ns, name, cancellationToken).ConfigureAwait(false);
        if (live is null)
        {
            return Inventory.Empty;
        }

        List<InventoryEntry>? entries;
        try
        {
            if (live["binaryData"]?[EntriesKey] is JsonValue packed && packed.TryGetValue<string>(out var base64))
            {
                using var gzip = new GZipStream(new MemoryStream(Convert.FromBase64String(base64)), CompressionMode.Decompress);
                entries = JsonSerializer.Deserialize(gzip, InventoryJson.Default.ListInventoryEntry);
            }
            else if (live["data"]?["inventory"] is JsonValue plain && plain.TryGetValue<string>(out var text))
            {
                entries = JsonSerializer.Deserialize(text, InventoryJson.Default.ListInventoryEntry);
            }
            else
            {
                return Inventory.Empty;
            }
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or JsonException or InvalidOperationException)
        {
            // Without it the agent cannot tell what it may prune: it stops, and says how to start over.
            throw new InvalidDataException($"the inventory ConfigMap {ns}/{name} is damaged ({(ex is JsonException json ? Fleet.Diagnostics.JsonErrors.Describe(json) : ex.Message)}): EdgeOps does not write it so; delete it to start over (objects the fleet no longer ships are then not pruned)", ex);
        }

        return new Inventory(live["data"]?["revision"] is JsonValue revision && revision.TryGetValue<string>(out var r) ? r : null, [.. entries ?? []]);
    }

    public async Task SaveAsync(Inventory inventory, CancellationToken cancellationToken)
    {
        var sorted = inventory.Entries.OrderBy(e => e.Kind, StringComparer.Ordinal).ThenBy(e => e.Namespace, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
        var packed = Pack(sorted);
        if (packed.Length > MaxEncodedBytes)
        {
            throw new ReconcilerException($"the record of what EdgeOps applied ({sorted.Count} objects) needs {packed.Length / 1024} KiB, more than one ConfigMap holds (1 MiB): split this cluster's desired state, or ship fewer objects to it");
        }

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
                ["objects"] = sorted.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            ["binaryData"] = new JsonObject { [EntriesKey] = packed },
        };
        var response = await api.ApplyAsync(configMaps, ns, name, body.ToJsonString(), "edgeops", force: true, cancellationToken).ConfigureAwait(false);
        KubeApi.EnsureSuccess(response, "save the inventory");
    }

    /// <summary>The entries as gzipped JSON, base64 (as binaryData carries it).</summary>
    internal static string Pack(List<InventoryEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            JsonSerializer.Serialize(gzip, entries, InventoryJson.Default.ListInventoryEntry);
        }

        return Convert.ToBase64String(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private async Task<ApiResource> ConfigMapsAsync(CancellationToken cancellationToken) =>
        await api.ResolveAsync("v1", "ConfigMap", cancellationToken).ConfigureAwait(false)
            ?? throw new KubeUnavailableException("the API server does not serve ConfigMaps");
}

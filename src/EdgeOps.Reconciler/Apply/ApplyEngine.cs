using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Reconciler.Health;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Apply;

public sealed record ApplyOptions
{
    public const string ForceConflictsAnnotation = "edgeops.io/force-conflicts";
    public const string RecreateAnnotation = "edgeops.io/recreate";

    public string FieldManager { get; init; } = "edgeops";

    /// <summary>The fleet whose ownership label (<c>edgeops.io/fleet</c>) marks objects that may be pruned.</summary>
    public required string Fleet { get; init; }

    public string? Revision { get; init; }

    public bool Prune { get; init; } = true;

    /// <summary>How long to wait for CRDs to be established (and their kinds served) before the next stage.</summary>
    public TimeSpan StageTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public int Concurrency { get; init; } = 8;

    /// <summary>Called at each step of an apply (for crash testing and tracing): "apply:stage:N", "apply:object:ID", "apply:prune:ID", "apply:inventory".</summary>
    public Action<string>? Checkpoint { get; init; }
}

public sealed record ApplyResult(ChangeSet ChangeSet, Inventory Inventory);

/// <summary>
/// Server-side apply of a desired state, in stages: CRDs (waiting until established) and
/// namespaces, cluster-scoped objects, namespaced objects, webhooks last. Only what changed or
/// drifted is written; everything else is confirmed with a read. Objects that left the desired
/// state are pruned if EdgeOps owns them; an object whose deletion fails stays in the inventory.
/// </summary>
public sealed class ApplyEngine(KubeApi api, InventoryStore store)
{
    private static readonly ObjectIdentity CrdId = new("apiextensions.k8s.io", "v1", "CustomResourceDefinition", null, string.Empty);

    public async Task<ApplyResult> ApplyAsync(IReadOnlyList<RenderedObject> desired, ApplyOptions options, CancellationToken cancellationToken)
    {
        var previous = await store.LoadAsync(cancellationToken).ConfigureAwait(false);
        var prepared = desired.Select(Prepare).ToList();

        // Before creating anything, record that it may exist: a crash in the middle then leaves every
        // object EdgeOps might have created in the inventory, where a rollback's prune finds it.
        var pending = previous.Entries.ToDictionary(e => e.Id);
        foreach (var item in prepared.Where(p => !pending.ContainsKey(p.Id)))
        {
            pending[item.Id] = InventoryEntry.For(item.Id, "pending");
        }

        if (pending.Count != previous.Entries.Length)
        {
            await store.SaveAsync(previous with { Entries = [.. pending.Values] }, cancellationToken).ConfigureAwait(false);
            options.Checkpoint?.Invoke("apply:inventory-pending");
        }

        var changes = new List<ObjectChange>();
        var entries = new Dictionary<ObjectIdentity, InventoryEntry>();
        using var gate = new SemaphoreSlim(options.Concurrency);

        foreach (var stage in prepared.GroupBy(p => p.Stage).OrderBy(g => g.Key))
        {
            options.Checkpoint?.Invoke($"apply:stage:{stage.Key}");
            var results = await Task.WhenAll(stage.Select(async item =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var change = await ApplyOneAsync(item, previous.Find(item.Id), options, cancellationToken).ConfigureAwait(false);
                    options.Checkpoint?.Invoke($"apply:object:{item.Id}");
                    return (item, change);
                }
                catch (KubeUnavailableException ex)
                {
                    // Retries are exhausted for this object: say so and carry on with the others.
                    return (item, change: new ObjectChange(item.Id, ChangeAction.Failed, $"API server unavailable: {ex.Message}", item.Location));
                }
                finally
                {
                    gate.Release();
                }
            })).ConfigureAwait(false);

            foreach (var (item, change) in results)
            {
                changes.Add(change);
                if (change.Action != ChangeAction.Failed)
                {
                    entries[item.Id] = InventoryEntry.For(item.Id, item.Hash);
                }
                else if (previous.Find(item.Id) is { } kept)
                {
                    entries[item.Id] = kept; // still ours, whatever it holds now
                }
            }

            if (stage.Key == 0)
            {
                foreach (var (item, change) in results.Where(r => r.change.Action != ChangeAction.Failed && KindOrder.IsCustomResourceDefinition(r.item.Id)))
                {
                    if (await WaitEstablishedAsync(item.Id.Name, options.StageTimeout, cancellationToken).ConfigureAwait(false) is { } problem)
                    {
                        changes[changes.IndexOf(change)] = change with { Action = ChangeAction.Failed, Reason = problem };
                    }
                }
            }
        }

        if (options.Prune)
        {
            var wanted = prepared.Select(p => p.Id).ToHashSet();
            var leaving = previous.Entries.Where(e => !wanted.Contains(e.Id))
                .OrderByDescending(e => KindOrder.Stage(e.Id, e.Namespace is null));
            foreach (var entry in leaving)
            {
                ObjectChange? change;
                try
                {
                    options.Checkpoint?.Invoke($"apply:prune:{entry.Id}");
                    change = await PruneAsync(entry, options, cancellationToken).ConfigureAwait(false);
                }
                catch (KubeUnavailableException ex)
                {
                    change = new ObjectChange(entry.Id, ChangeAction.Failed, $"API server unavailable: {ex.Message}");
                }

                if (change is null)
                {
                    continue;
                }

                changes.Add(change);
                if (change.Action == ChangeAction.Failed)
                {
                    entries[entry.Id] = entry;
                }
            }
        }

        var inventory = new Inventory(options.Revision, [.. entries.Values.OrderBy(e => e.Kind, StringComparer.Ordinal).ThenBy(e => e.Namespace, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal)]);
        if (!Same(inventory, previous))
        {
            options.Checkpoint?.Invoke("apply:inventory");
            await store.SaveAsync(inventory, cancellationToken).ConfigureAwait(false);
        }

        return new ApplyResult(new ChangeSet([.. changes]), inventory);
    }

    /// <summary>
    /// Returns the cluster to a previous revision: its objects are applied again (fields the failed
    /// revision added are dropped, since server-side apply removes what the manager no longer sets)
    /// and everything the failed attempt created is pruned, because it is in the inventory and not in
    /// the previous desired state.
    /// </summary>
    public Task<ApplyResult> RollbackAsync(IReadOnlyList<RenderedObject> previous, ApplyOptions options, CancellationToken cancellationToken) =>
        ApplyAsync(previous, options with { Prune = true }, cancellationToken);

    private static bool Same(Inventory a, Inventory b) =>
        (a.Revision ?? string.Empty) == (b.Revision ?? string.Empty)
        && a.Entries.Length == b.Entries.Length
        && a.Entries.OrderBy(e => e.ToString(), StringComparer.Ordinal).SequenceEqual(b.Entries.OrderBy(e => e.ToString(), StringComparer.Ordinal));

    /// <summary>The inventory as stored in the cluster.</summary>
    public Task<Inventory> InventoryAsync(CancellationToken cancellationToken) => store.LoadAsync(cancellationToken);

    private async Task<ObjectChange> ApplyOneAsync(PreparedObject item, InventoryEntry? previous, ApplyOptions options, CancellationToken cancellationToken)
    {
        var resource = await ResolveAsync(item.Id, options, cancellationToken).ConfigureAwait(false);
        if (resource is null)
        {
            return new ObjectChange(item.Id, ChangeAction.Failed, $"the API server does not serve {item.Id.ApiVersion} {item.Id.Kind} (is its CRD applied?)", item.Location);
        }

        var ns = resource.Namespaced ? item.Id.Namespace ?? "default" : null;
        var drifted = false;
        if (previous?.Hash == item.Hash)
        {
            var live = await api.GetAsync(resource, ns, item.Id.Name, cancellationToken).ConfigureAwait(false);
            if (live is not null && LiveComparer.Holds(item.Json, live))
            {
                return new ObjectChange(item.Id, ChangeAction.Unchanged, null, item.Location);
            }

            drifted = true;
        }

        var response = await api.ApplyAsync(resource, ns, item.Id.Name, item.Text, options.FieldManager, item.ForceConflicts, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.UnprocessableEntity && item.RecreateOnImmutable && response.Message.Contains("immutable", StringComparison.OrdinalIgnoreCase))
        {
            var deleted = await api.DeleteAsync(resource, ns, item.Id.Name, cancellationToken).ConfigureAwait(false);
            if (!deleted.IsSuccess && deleted.Status != HttpStatusCode.NotFound)
            {
                return new ObjectChange(item.Id, ChangeAction.Failed, $"cannot delete to recreate: {deleted.Message}", item.Location);
            }

            await WaitGoneAsync(resource, ns, item.Id.Name, options.StageTimeout, cancellationToken).ConfigureAwait(false);
            response = await api.ApplyAsync(resource, ns, item.Id.Name, item.Text, options.FieldManager, item.ForceConflicts, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccess)
            {
                return new ObjectChange(item.Id, ChangeAction.Configured, "recreated: an immutable field changed", item.Location);
            }
        }

        return response.Status switch
        {
            HttpStatusCode.Created => new ObjectChange(item.Id, ChangeAction.Created, null, item.Location),
            HttpStatusCode.OK => new ObjectChange(item.Id, ChangeAction.Configured, drifted ? "drift corrected" : null, item.Location),
            HttpStatusCode.Conflict => new ObjectChange(item.Id, ChangeAction.Failed,
                $"conflict with another field manager: {response.Message} (set annotation {ApplyOptions.ForceConflictsAnnotation}: \"true\" to take the fields over)", item.Location),
            _ => new ObjectChange(item.Id, ChangeAction.Failed, $"{response.Reason}: {response.Message}", item.Location),
        };
    }

    private async Task<ApiResource?> ResolveAsync(ObjectIdentity id, ApplyOptions options, CancellationToken cancellationToken)
    {
        var resource = await api.ResolveAsync(id.ApiVersion, id.Kind, cancellationToken).ConfigureAwait(false);
        if (resource is not null || id.Group.Length == 0 || id.Group.EndsWith(".k8s.io", StringComparison.Ordinal))
        {
            return resource;
        }

        // A kind from a CRD applied moments ago may take a little while to be served.
        var deadline = DateTime.UtcNow + options.StageTimeout;
        while (resource is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            resource = await api.ResolveAsync(id.ApiVersion, id.Kind, cancellationToken).ConfigureAwait(false);
            if (resource is null && !await CrdExistsForAsync(id, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }

        return resource;
    }

    private async Task<bool> CrdExistsForAsync(ObjectIdentity id, CancellationToken cancellationToken)
    {
        var crds = await api.ResolveAsync(CrdId.ApiVersion, CrdId.Kind, cancellationToken).ConfigureAwait(false);
        if (crds is null)
        {
            return false;
        }

        var list = await api.ListAsync(crds, null, null, cancellationToken).ConfigureAwait(false);
        return list.Any(c => c["spec"]?["group"]?.GetValue<string>() == id.Group && c["spec"]?["names"]?["kind"]?.GetValue<string>() == id.Kind);
    }

    private async Task<string?> WaitEstablishedAsync(string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var crds = await api.ResolveAsync(CrdId.ApiVersion, CrdId.Kind, cancellationToken).ConfigureAwait(false);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var live = crds is null ? null : await api.GetAsync(crds, null, name, cancellationToken).ConfigureAwait(false);
            if (HealthChecker.Condition(live, "Established") == "True")
            {
                return null;
            }

            if (DateTime.UtcNow >= deadline)
            {
                return $"CRD {name} was not established within {DurationParser.Format(timeout)}";
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitGoneAsync(ApiResource resource, string? ns, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && await api.GetAsync(resource, ns, name, cancellationToken).ConfigureAwait(false) is not null)
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ObjectChange?> PruneAsync(InventoryEntry entry, ApplyOptions options, CancellationToken cancellationToken)
    {
        var id = entry.Id;
        var resource = await api.ResolveAsync(entry.ApiVersion, entry.Kind, cancellationToken).ConfigureAwait(false);
        if (resource is null)
        {
            return null; // its kind is gone (CRD removed): so is the object
        }

        var ns = resource.Namespaced ? entry.Namespace ?? "default" : null;
        var live = await api.GetAsync(resource, ns, entry.Name, cancellationToken).ConfigureAwait(false);
        if (live is null)
        {
            return null;
        }

        if (live["metadata"]?["labels"]?[FleetApi.FleetLabel]?.GetValue<string>() != options.Fleet)
        {
            // Someone else's object now: never delete what EdgeOps does not own.
            return new ObjectChange(id, ChangeAction.Unchanged, "left the desired state but is not owned by this fleet; kept");
        }

        var response = await api.DeleteAsync(resource, ns, entry.Name, cancellationToken).ConfigureAwait(false);
        return response.IsSuccess || response.Status == HttpStatusCode.NotFound
            ? new ObjectChange(id, ChangeAction.Deleted)
            : new ObjectChange(id, ChangeAction.Failed, $"delete failed: {response.Reason}: {response.Message}");
    }

    private static PreparedObject Prepare(RenderedObject o)
    {
        var json = (JsonObject)JsonNode.Parse(JsonText.Write(o.Body))!;
        DefaultPortProtocols(json);
        var text = json.ToJsonString();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var annotations = (o.Body["metadata"] as MappingNode)?["annotations"] as MappingNode;
        return new PreparedObject(o.Id, text, json, hash, o.Stage,
            annotations?.GetString(ApplyOptions.ForceConflictsAnnotation) == "true",
            annotations?.GetString(ApplyOptions.RecreateAnnotation) == "true",
            o.Body.Location);
    }

    /// <summary>
    /// Ports are lists keyed by port and protocol, and servers before Kubernetes 1.21 reject a server-side
    /// apply whose port omits the protocol; it defaults to TCP anyway, so say so.
    /// </summary>
    private static void DefaultPortProtocols(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (key == "ports" && value is JsonArray ports)
                    {
                        foreach (var port in ports.OfType<JsonObject>())
                        {
                            if ((port.ContainsKey("containerPort") || port.ContainsKey("port")) && !port.ContainsKey("protocol"))
                            {
                                port["protocol"] = "TCP";
                            }
                        }
                    }

                    DefaultPortProtocols(value);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    DefaultPortProtocols(item);
                }

                break;
        }
    }

    private sealed record PreparedObject(ObjectIdentity Id, string Text, JsonObject Json, string Hash, int Stage, bool ForceConflicts, bool RecreateOnImmutable, SourceLocation Location);
}

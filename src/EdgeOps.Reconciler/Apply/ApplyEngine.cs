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
    /// <summary>Kept for fleets that set it: fields owned by other managers are taken over by default now.</summary>
    public const string ForceConflictsAnnotation = "edgeops.io/force-conflicts";
    public const string RecreateAnnotation = "edgeops.io/recreate";

    /// <summary>
    /// Per-object opt-outs, on the object in Git or in the cluster (Flux: kustomize.toolkit.fluxcd.io/reconcile
    /// and kustomize.toolkit.fluxcd.io/ssa): <c>disabled</c> — neither applied nor pruned;
    /// <c>if-not-present</c> — created when absent, then left alone.
    /// </summary>
    public const string ReconcileAnnotation = "edgeops.io/reconcile";
    public const string ReconcileDisabled = "disabled";
    public const string ReconcileIfNotPresent = "if-not-present";

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
public sealed class ApplyEngine(KubeApi api, InventoryStore store, TimeProvider? clock = null)
{
    /// <summary>The reason of a change that took back what another field manager changed.</summary>
    public const string DriftReason = "drift corrected";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

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
            var listed = await ListOwnedAsync(stage, options, cancellationToken).ConfigureAwait(false);
            var results = await Task.WhenAll(stage.Select(async item =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var change = await ApplyOneAsync(item, previous.Find(item.Id), listed.GetValueOrDefault(item.Id), options, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// The live objects of a stage, read with one LIST per kind and namespace (selected by the fleet's ownership
    /// label) instead of one GET per object: a pass that changes nothing then costs a few requests, not hundreds.
    /// Only a hit counts: an object the list does not show (not labelled ours, or the list failed) is read with a
    /// GET as before, so nothing foreign is ever taken for absent.
    /// </summary>
    private async Task<Dictionary<ObjectIdentity, JsonObject>> ListOwnedAsync(IEnumerable<PreparedObject> stage, ApplyOptions options, CancellationToken cancellationToken)
    {
        var found = new Dictionary<ObjectIdentity, JsonObject>();
        foreach (var group in stage.GroupBy(p => (p.Id.ApiVersion, p.Id.Kind, p.Id.Namespace)).Where(g => g.Count() >= ListThreshold))
        {
            var first = group.First();
            var resource = await ResolveAsync(first.Id, options, cancellationToken).ConfigureAwait(false);
            if (resource is null)
            {
                continue;
            }

            IReadOnlyList<JsonObject> items;
            try
            {
                items = await api.ListAsync(resource, resource.Namespaced ? first.Id.Namespace ?? "default" : null, $"{Fleet.Model.FleetApi.FleetLabel}={options.Fleet}", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                continue; // not allowed to list, or the server failed: GET them one by one
            }

            var wanted = group.ToDictionary(p => p.Id.Name, p => p, StringComparer.Ordinal);
            foreach (var live in items)
            {
                if (live["metadata"]?["name"]?.ToString() is { } name && wanted.TryGetValue(name, out var item))
                {
                    // Items of a list carry no apiVersion and kind of their own.
                    live["apiVersion"] = item.Json["apiVersion"]?.DeepClone();
                    live["kind"] = item.Json["kind"]?.DeepClone();
                    found[item.Id] = live;
                }
            }
        }

        return found;
    }

    /// <summary>How many objects of one kind in one namespace make a LIST cheaper than GETs.</summary>
    private const int ListThreshold = 3;

    private async Task<ObjectChange> ApplyOneAsync(PreparedObject item, InventoryEntry? previous, JsonObject? listed, ApplyOptions options, CancellationToken cancellationToken)
    {
        var resource = await ResolveAsync(item.Id, options, cancellationToken).ConfigureAwait(false);
        if (resource is null)
        {
            return new ObjectChange(item.Id, ChangeAction.Failed, $"the API server does not serve {item.Id.ApiVersion} {item.Id.Kind} (is its CRD applied?)", item.Location);
        }

        var ns = resource.Namespaced ? item.Id.Namespace ?? "default" : null;
        var live = listed ?? await api.GetAsync(resource, ns, item.Id.Name, cancellationToken).ConfigureAwait(false);
        var mode = live is null ? item.Mode : Stricter(item.Mode, ReconcileMode(live));
        if (mode == ApplyOptions.ReconcileDisabled)
        {
            return new ObjectChange(item.Id, ChangeAction.Unchanged, $"{ApplyOptions.ReconcileAnnotation}: {ApplyOptions.ReconcileDisabled}; left alone", item.Location);
        }

        if (live is not null && mode == ApplyOptions.ReconcileIfNotPresent)
        {
            return new ObjectChange(item.Id, ChangeAction.Unchanged, $"{ApplyOptions.ReconcileAnnotation}: {ApplyOptions.ReconcileIfNotPresent}; exists, left alone", item.Location);
        }

        string? drift = null;
        if (live is not null && previous?.Hash == item.Hash)
        {
            if (LiveComparer.Holds(item.Json, live))
            {
                return new ObjectChange(item.Id, ChangeAction.Unchanged, null, item.Location);
            }

            var managers = OtherManagers(live, options.FieldManager);
            drift = managers.Count == 0 ? DriftReason : $"{DriftReason}: changed by {string.Join(", ", managers)}";
        }

        // Git is the source of truth: fields another manager took (kubectl edit, another controller) are taken back.
        var response = await api.ApplyAsync(resource, ns, item.Id.Name, item.Text, options.FieldManager, force: true, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.UnprocessableEntity && item.RecreateOnImmutable && response.Message.Contains("immutable", StringComparison.OrdinalIgnoreCase))
        {
            var deleted = await api.DeleteAsync(resource, ns, item.Id.Name, cancellationToken).ConfigureAwait(false);
            if (!deleted.IsSuccess && deleted.Status != HttpStatusCode.NotFound)
            {
                return new ObjectChange(item.Id, ChangeAction.Failed, $"cannot delete to recreate: {deleted.Message}", item.Location);
            }

            await WaitGoneAsync(resource, ns, item.Id.Name, options.StageTimeout, cancellationToken).ConfigureAwait(false);
            response = await api.ApplyAsync(resource, ns, item.Id.Name, item.Text, options.FieldManager, force: true, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccess)
            {
                return new ObjectChange(item.Id, ChangeAction.Configured, "recreated: an immutable field changed", item.Location);
            }
        }

        return response.Status switch
        {
            HttpStatusCode.Created => new ObjectChange(item.Id, ChangeAction.Created, null, item.Location),
            HttpStatusCode.OK => new ObjectChange(item.Id, ChangeAction.Configured, drift, item.Location),
            _ => new ObjectChange(item.Id, ChangeAction.Failed, $"{response.Reason}: {response.Message}", item.Location),
        };
    }

    /// <summary>The opt-out an object carries, if any.</summary>
    private static string? ReconcileMode(JsonObject live) => live["metadata"]?["annotations"]?[ApplyOptions.ReconcileAnnotation]?.ToString();

    private static string? Stricter(string? a, string? b) =>
        a == ApplyOptions.ReconcileDisabled || b == ApplyOptions.ReconcileDisabled ? ApplyOptions.ReconcileDisabled
        : a == ApplyOptions.ReconcileIfNotPresent || b == ApplyOptions.ReconcileIfNotPresent ? ApplyOptions.ReconcileIfNotPresent
        : null;

    /// <summary>Field managers other than ours that own fields of a live object (who made the drift).</summary>
    private static List<string> OtherManagers(JsonObject live, string ours) =>
        [.. (live["metadata"]?["managedFields"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Where(m => m["manager"]?.ToString() is { } name && name != ours && m["operation"]?.ToString() == "Update" && m["subresource"] is null)
            .Select(m => m["manager"]!.ToString())
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];

    private async Task<ApiResource?> ResolveAsync(ObjectIdentity id, ApplyOptions options, CancellationToken cancellationToken)
    {
        var resource = await api.ResolveAsync(id.ApiVersion, id.Kind, cancellationToken).ConfigureAwait(false);
        if (resource is not null || id.Group.Length == 0 || id.Group.EndsWith(".k8s.io", StringComparison.Ordinal))
        {
            return resource;
        }

        // A kind from a CRD applied moments ago may take a little while to be served.
        var deadline = _clock.GetUtcNow() + options.StageTimeout;
        while (resource is null && _clock.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), _clock, cancellationToken).ConfigureAwait(false);
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
        var deadline = _clock.GetUtcNow() + timeout;
        while (true)
        {
            var live = crds is null ? null : await api.GetAsync(crds, null, name, cancellationToken).ConfigureAwait(false);
            if (HealthChecker.Condition(live, "Established") == "True")
            {
                return null;
            }

            if (_clock.GetUtcNow() >= deadline)
            {
                return $"CRD {name} was not established within {DurationParser.Format(timeout)}";
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _clock, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitGoneAsync(ApiResource resource, string? ns, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _clock.GetUtcNow() + timeout;
        while (_clock.GetUtcNow() < deadline && await api.GetAsync(resource, ns, name, cancellationToken).ConfigureAwait(false) is not null)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), _clock, cancellationToken).ConfigureAwait(false);
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

        if (ReconcileMode(live) == ApplyOptions.ReconcileDisabled)
        {
            return new ObjectChange(id, ChangeAction.Unchanged, $"left the desired state but carries {ApplyOptions.ReconcileAnnotation}: {ApplyOptions.ReconcileDisabled}; kept");
        }

        if (id.Group.Length == 0 && id.Kind == "Namespace" && await ForeignObjectAsync(entry.Name, options.Fleet, cancellationToken).ConfigureAwait(false) is { } foreign)
        {
            // Deleting a namespace deletes everything in it: never while it holds what EdgeOps does not own.
            return new ObjectChange(id, ChangeAction.Unchanged, $"left the desired state but holds {foreign}, which EdgeOps does not own; kept");
        }

        var response = await api.DeleteAsync(resource, ns, entry.Name, cancellationToken).ConfigureAwait(false);
        return response.IsSuccess || response.Status == HttpStatusCode.NotFound
            ? new ObjectChange(id, ChangeAction.Deleted)
            : new ObjectChange(id, ChangeAction.Failed, $"delete failed: {response.Reason}: {response.Message}");
    }

    /// <summary>
    /// The first object in a namespace that is not EdgeOps's (no fleet label, or another fleet's), or
    /// null when it holds only ours. Objects made by controllers for ours (owner references), and what
    /// Kubernetes puts in every namespace, do not count. A kind the agent may not list counts as foreign.
    /// </summary>
    private async Task<string?> ForeignObjectAsync(string ns, string fleet, CancellationToken cancellationToken)
    {
        foreach (var resource in await api.NamespacedResourcesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (resource.Group.Length == 0 && resource.Kind is "Event" or "Endpoints" || resource is { Group: "events.k8s.io" } or { Group: "discovery.k8s.io" })
            {
                continue;
            }

            IReadOnlyList<JsonObject> items;
            try
            {
                items = await api.ListAsync(resource, ns, null, cancellationToken).ConfigureAwait(false);
            }
            catch (KubeUnavailableException ex)
            {
                return $"{resource.Plural} it cannot list ({ex.Message})";
            }

            foreach (var item in items)
            {
                var metadata = item["metadata"];
                var name = metadata?["name"]?.ToString() ?? string.Empty;
                if (metadata?["labels"]?[FleetApi.FleetLabel]?.ToString() == fleet
                    || metadata?["ownerReferences"] is JsonArray { Count: > 0 }
                    || IsPutThereByKubernetes(resource.Kind, name, item))
                {
                    continue;
                }

                return $"{resource.Kind} {name}";
            }
        }

        return null;
    }

    private static bool IsPutThereByKubernetes(string kind, string name, JsonObject item) => kind switch
    {
        "ConfigMap" => name == "kube-root-ca.crt",
        "ServiceAccount" => name == "default",
        "Secret" => item["type"]?.ToString() == "kubernetes.io/service-account-token",
        _ => false,
    };

    private static PreparedObject Prepare(RenderedObject o)
    {
        var json = (JsonObject)JsonNode.Parse(JsonText.Write(o.Body))!;
        DefaultPortProtocols(json);
        var text = json.ToJsonString();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var annotations = (o.Body["metadata"] as MappingNode)?["annotations"] as MappingNode;
        return new PreparedObject(o.Id, text, json, hash, o.Stage,
            annotations?.GetString(ApplyOptions.ReconcileAnnotation),
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

    private sealed record PreparedObject(ObjectIdentity Id, string Text, JsonObject Json, string Hash, int Stage, string? Mode, bool RecreateOnImmutable, SourceLocation Location);
}

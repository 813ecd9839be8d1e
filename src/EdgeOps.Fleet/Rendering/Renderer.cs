using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Rendering;

/// <summary>A cluster's desired state and the problems found rendering it.</summary>
public sealed record RenderResult(DesiredState State, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// <c>render(fleet, cluster, facts) → DesiredState</c>, a pure function: placement, values, overlays,
/// ownership labels, namespaces, order. One renderer serves many clusters concurrently; what does
/// not depend on the cluster (manifests without variables) is prepared once and shared.
/// </summary>
public sealed class Renderer
{
    private readonly FleetModel _fleet;
    private readonly ConcurrentDictionary<Manifest, MappingNode> _static = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<DeviceConfig, MappingNode> _akri;

    /// <summary>
    /// Static bodies (manifests without variables, device configurations) with their namespace filled in:
    /// the same node for every cluster that gets the body unpatched, so that what is worked out from its
    /// content (its digest, the policy outcomes on it) is worked out once for the fleet. Keyed by the
    /// static body itself, so it holds one entry per static body at most.
    /// </summary>
    private readonly ConcurrentDictionary<MappingNode, MappingNode> _namespaced = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<MappingNode> _staticBodies = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Manifests with variables, rendered and labelled, by the values their variables took (when all are scalars and
    /// the rendering reported nothing): clusters whose variables agree (same image, same replicas) get the same
    /// node, and so its digest and its policy outcomes are worked out once. Bounded per manifest.
    /// </summary>
    private readonly ConcurrentDictionary<Manifest, Memo<string>> _rendered = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<Manifest, IReadOnlyList<string>?> _variables = new(ReferenceEqualityComparer.Instance);

    /// <summary>Overlay patches without variables applied to a shared body (and labelled), by patch and body.</summary>
    private readonly ConcurrentDictionary<Patch, Memo<MappingNode>> _patched = new(ReferenceEqualityComparer.Instance);

    /// <summary>Shared rendered bodies (from the two memos above), with their namespaced form once made; bounded.</summary>
    private readonly ConcurrentDictionary<MappingNode, (string Namespace, MappingNode Body)?> _shared = new(ReferenceEqualityComparer.Instance);

    /// <summary>Distinct renderings kept per manifest or patch, and shared bodies in all.</summary>
    private const int MaxMemoPerSource = 256;
    private const int MaxSharedBodies = 1 << 16;

    public Renderer(FleetModel fleet)
    {
        _fleet = fleet;
        _akri = new Dictionary<DeviceConfig, MappingNode>(ReferenceEqualityComparer.Instance);
        foreach (var config in fleet.DeviceConfigs)
        {
            _akri[config] = AkriRenderer.Render(config, fleet.Settings);
            _staticBodies.Add(_akri[config]);
        }

        foreach (var workload in fleet.Workloads)
        {
            foreach (var manifest in workload.Manifests.Where(m => !m.HasVariables))
            {
                _staticBodies.Add(StaticBody(workload, manifest));
            }
        }
    }

    /// <summary>Nodes one rendered object may hold once written out.</summary>
    public const long MaxObjectNodes = 1_000_000;

    /// <summary>Characters of text one rendered object may hold once written out.</summary>
    public const long MaxObjectBytes = 16L * 1024 * 1024;

    public FleetModel Fleet => _fleet;

    /// <summary>Whether a body is over the size limits; one found within them is marked, so a manifest shared by many clusters is walked once.</summary>
    private static bool TooLarge(MappingNode body)
    {
        if (body.WithinLimits)
        {
            return false;
        }

        if (NodeWeight.Measure(body, MaxObjectNodes, MaxObjectBytes).Over)
        {
            return true;
        }

        body.WithinLimits = true;
        return false;
    }

    public RenderResult Render(Cluster cluster, ClusterFacts? facts = null)
    {
        var context = new RenderContext(this, cluster, facts ?? ClusterFacts.None);
        return context.Run();
    }

    private readonly ConcurrentDictionary<Patch, bool> _patchVariables = new(ReferenceEqualityComparer.Instance);

    private bool HasVariables(Patch patch) => _patchVariables.GetOrAdd(patch, static p => Substitution.ContainsVariables(p.Body));

    /// <summary>
    /// Renderings of one manifest or patch by what they depend on. One whose inputs differ on every cluster (a
    /// ConfigMap naming its cluster) is never asked twice for the same thing: after enough misses with hardly a hit,
    /// it stops remembering, so that such renderings stay young garbage instead of filling the memo.
    /// </summary>
    private sealed class Memo<TKey>(IEqualityComparer<TKey> comparer)
        where TKey : notnull
    {
        private const int Trial = 64;
        private readonly ConcurrentDictionary<TKey, MappingNode> _entries = new(comparer);
        private int _hits;
        private int _misses;

        public bool Enabled => Volatile.Read(ref _misses) < Trial || Volatile.Read(ref _hits) * 4 >= Volatile.Read(ref _misses);

        public bool TryGet(TKey key, out MappingNode body)
        {
            if (_entries.TryGetValue(key, out body!))
            {
                Interlocked.Increment(ref _hits);
                return true;
            }

            Interlocked.Increment(ref _misses);
            return false;
        }

        public MappingNode Remember(TKey key, MappingNode body)
        {
            if (_entries.Count >= MaxMemoPerSource)
            {
                _entries.Clear();
            }

            return _entries.GetOrAdd(key, body);
        }
    }

    private MappingNode Share(MappingNode body)
    {
        if (_shared.Count >= MaxSharedBodies)
        {
            _shared.Clear();
        }

        _shared.TryAdd(body, null);
        return body;
    }

    /// <summary>The body with its namespace, made once for a static or shared body; null for any other body.</summary>
    private MappingNode? SharedNamespaced(MappingNode body, string ns)
    {
        if (_staticBodies.Contains(body))
        {
            return _namespaced.GetOrAdd(body, static (b, ns) => RenderContext.Namespaced(b, ns), ns);
        }

        if (!_shared.TryGetValue(body, out var made))
        {
            return null;
        }

        if (made is { } m && m.Namespace == ns)
        {
            return m.Body;
        }

        var namespaced = RenderContext.Namespaced(body, ns);
        _shared[body] = (ns, namespaced);
        return namespaced;
    }

    private MappingNode StaticBody(Workload workload, Manifest manifest) =>
        _static.GetOrAdd(manifest, m => Label(m.Body, workload.Name));

    private MappingNode Label(MappingNode body, string workload) =>
        Ownership(body, (FleetApi.WorkloadLabel, workload), (FleetApi.FleetLabel, _fleet.Name));

    internal static MappingNode Ownership(MappingNode body, params (string Key, string Value)[] labels)
    {
        var metadata = body["metadata"] as MappingNode ?? new MappingNode([], body.Location);
        var existing = metadata["labels"] as MappingNode ?? new MappingNode([], metadata.Location);
        var updated = existing;
        foreach (var (key, value) in labels)
        {
            if (updated.GetString(key) != value)
            {
                updated = updated.With(key, ScalarNode.String(value, existing.Location));
            }
        }

        return ReferenceEquals(updated, existing) ? body : body.With("metadata", metadata.With("labels", updated));
    }

    private sealed class RenderContext(Renderer renderer, Cluster cluster, ClusterFacts facts)
    {
        private readonly List<Diagnostic> _diagnostics = [];
        private readonly FleetModel _fleet = renderer._fleet;

        public RenderResult Run()
        {
            var objects = new List<RenderedObject>();
            var workloads = ImmutableArray.CreateBuilder<string>();
            foreach (var workload in _fleet.Workloads)
            {
                if (!PlacementEvaluator.Matches(workload.Placement, cluster, facts, PlacementEvaluator.Key(workload.Kind, workload.Name)))
                {
                    continue;
                }

                workloads.Add(workload.Name);
                RenderWorkload(workload, objects);
            }

            var deviceConfigs = ImmutableArray.CreateBuilder<string>();
            foreach (var config in _fleet.DeviceConfigs)
            {
                if (PlacementEvaluator.Matches(config.Placement, cluster, facts, PlacementEvaluator.Key(config.Kind, config.Name)))
                {
                    deviceConfigs.Add(config.Name);
                    var body = renderer._akri[config];
                    objects.Add(new RenderedObject(ObjectIdentity.From(body), body, config.Name, FleetApi.DeviceConfigKind, ClusterScoped: false));
                }
            }

            var upgrades = _fleet.UpgradePlans.Where(u => PlacementEvaluator.Matches(u.Placement, cluster, facts, PlacementEvaluator.Key(u.Kind, u.Name))).Select(u => u.Name).ToImmutableArray();
            var finished = Finish(objects);
            var state = new DesiredState(cluster.Name, _fleet.Name, _fleet.Revision, workloads.ToImmutable(), deviceConfigs.ToImmutable(), upgrades, finished)
            {
                Facts = facts,
            };
            return new RenderResult(state, _diagnostics);
        }

        private void RenderWorkload(Workload workload, List<RenderedObject> objects)
        {
            Node? substitutedValues = null;
            VariableResolver? resolver = null;
            VariableResolver Resolver() => resolver ??= name => Resolve(workload, name, ref substitutedValues);

            var bodies = new List<MappingNode>(workload.Manifests.Length);
            foreach (var manifest in workload.Manifests)
            {
                if (!manifest.HasVariables)
                {
                    bodies.Add(renderer.StaticBody(workload, manifest));
                    continue;
                }

                bodies.Add(Rendered(workload, manifest, Resolver()));
            }

            foreach (var overlay in workload.Overlays)
            {
                if (!overlay.Selector.Matches(cluster.Labels))
                {
                    continue;
                }

                foreach (var patch in overlay.Patches)
                {
                    var matched = false;
                    for (var i = 0; i < bodies.Count; i++)
                    {
                        if (!Targets(patch.Target, bodies[i]))
                        {
                            continue;
                        }

                        matched = true;
                        if ((renderer._shared.ContainsKey(bodies[i]) || renderer._staticBodies.Contains(bodies[i])) && !renderer.HasVariables(patch)
                            && renderer._patched.GetOrAdd(patch, static _ => new(ReferenceEqualityComparer.Instance)) is { Enabled: true } memo)
                        {
                            if (memo.TryGet(bodies[i], out var done))
                            {
                                bodies[i] = done;
                                continue;
                            }

                            var reported = _diagnostics.Count;
                            var result = Patch(workload, overlay, patch, bodies[i], patch.Body);
                            if (_diagnostics.Count == reported)
                            {
                                result = renderer.Share(memo.Remember(bodies[i], result));
                            }

                            bodies[i] = result;
                            continue;
                        }

                        bodies[i] = Patch(workload, overlay, patch, bodies[i], Substitution.Apply(patch.Body, Resolver(), Report));
                    }

                    if (!matched)
                    {
                        Report(patch.Target.Location, Codes.PatchTargetUnmatched,
                            $"overlay '{overlay.Name}' patch target matches no object of workload '{workload.Name}'", Severity.Warning);
                    }
                }
            }

            foreach (var body in bodies)
            {
                if (Renderer.TooLarge(body))
                {
                    // Aliases, variables and patches share nodes; written out, this object would not fit in memory.
                    Report(body.Location, Codes.ExpansionLimit,
                        $"{ObjectIdentity.From(body)} expands past {MaxObjectNodes:N0} nodes or {MaxObjectBytes:N0} characters of text (through aliases, variables or patches); refused");
                    continue;
                }

                objects.Add(new RenderedObject(ObjectIdentity.From(body), body, workload.Name, FleetApi.WorkloadKind, ClusterScoped: false));
            }
        }

        /// <summary>
        /// A manifest with variables, substituted and labelled: taken from the renderer's memo when a cluster before this
        /// one gave its variables the same values, and put there when this rendering reported nothing.
        /// </summary>
        private MappingNode Rendered(Workload workload, Manifest manifest, VariableResolver resolve)
        {
            var names = renderer._variables.GetOrAdd(manifest, static m => Substitution.VariableNames(m.Body));
            var memo = names is null ? null : renderer._rendered.GetOrAdd(manifest, static _ => new(StringComparer.Ordinal));
            var key = memo is { Enabled: true } ? MemoKey(names!, resolve) : null;
            if (key is not null && memo!.TryGet(key, out var known))
            {
                return known;
            }

            var reported = _diagnostics.Count;
            var body = renderer.Label((MappingNode)Substitution.Apply(manifest.Body, resolve, Report), workload.Name);
            return key is not null && _diagnostics.Count == reported ? renderer.Share(memo!.Remember(key, body)) : body;
        }

        /// <summary>
        /// What a rendering depends on: each variable's value with its type and where it was written (a value from the
        /// cluster's own file must keep pointing there). Null when a variable is unknown or not a scalar.
        /// </summary>
        private static string? MemoKey(IReadOnlyList<string> names, VariableResolver resolve)
        {
            var key = new System.Text.StringBuilder();
            foreach (var name in names)
            {
                if (resolve(name) is not ScalarNode value)
                {
                    return null;
                }

                key.Append((int)value.Kind).Append(value.IsQuoted ? 'q' : 'p').Append(value.Location.Path).Append(':')
                    .Append(value.Location.Line).Append(':').Append(value.Location.Column).Append('=').Append(value.Value).Append('\u001f');
            }

            return key.ToString();
        }

        private MappingNode Patch(Workload workload, Overlay overlay, Patch patch, MappingNode body, Node patchBody)
        {
            try
            {
                var patched = patch.Type == PatchType.Merge
                    ? Patching.MergePatch(body, patchBody)
                    : Patching.JsonPatch(body, (SequenceNode)patchBody);
                if (patched is MappingNode map)
                {
                    return renderer.Label(map, workload.Name);
                }

                Report(patch.Location, Codes.PatchFailed, $"overlay '{overlay.Name}' turns the object into a {patched.TypeName}");
            }
            catch (PatchException ex)
            {
                Report(ex.Location, Codes.PatchFailed,
                    $"overlay '{overlay.Name}' cannot patch {ObjectIdentity.From(body)}: {ex.Message}");
            }

            return body;
        }

        private ImmutableArray<RenderedObject> Finish(List<RenderedObject> objects)
        {
            // Which kinds are cluster-scoped: the built-in list plus every CRD this cluster gets.
            var crdScopes = new Dictionary<(string Group, string Kind), bool>();
            foreach (var o in objects)
            {
                if (KindOrder.IsCustomResourceDefinition(o.Id) && o.Body["spec"] is MappingNode spec)
                {
                    var group = spec.GetString("group") ?? string.Empty;
                    var kind = (spec["names"] as MappingNode)?.GetString("kind") ?? string.Empty;
                    crdScopes[(group, kind)] = spec.GetString("scope") == "Cluster";
                }
            }

            foreach (var o in objects)
            {
                if (!BuiltInApis.Serves(o.Id.Group) && !crdScopes.ContainsKey((o.Id.Group, o.Id.Kind))
                    && !cluster.Apis.Contains(o.Id.Group, StringComparer.Ordinal) && !cluster.Apis.Contains(o.Id.ApiVersion, StringComparer.Ordinal))
                {
                    _diagnostics.Add(new Diagnostic(o.Body.Location, Severity.Warning, Codes.KindWithoutDefinition,
                        $"{o.Id.ApiVersion} {o.Id.Kind} is defined by no CustomResourceDefinition this cluster gets, and '{o.Id.Group}' is not in the cluster's spec.apis: applying it fails unless the cluster already serves it")
                    {
                        Clusters = [cluster.Name],
                        Related = [cluster.Location],
                    });
                }
            }

            var byId = new Dictionary<ObjectIdentity, RenderedObject>();
            foreach (var original in objects)
            {
                var o = original;
                var clusterScoped = crdScopes.TryGetValue((o.Id.Group, o.Id.Kind), out var scoped) ? scoped : KindOrder.IsKnownClusterScoped(o.Id.Kind);
                if (!clusterScoped && o.Id.Namespace is null)
                {
                    var ns = _fleet.Workloads.FirstOrDefault(w => w.Name == o.Owner && o.OwnerKind == FleetApi.WorkloadKind)?.Namespace ?? "default";
                    var body = renderer.SharedNamespaced(o.Body, ns) ?? Namespaced(o.Body, ns);
                    o = o with { Body = body, Id = o.Id with { Namespace = ns } };
                }

                o = o with { ClusterScoped = clusterScoped };
                if (byId.TryGetValue(o.Id, out var first))
                {
                    _diagnostics.Add(new Diagnostic(o.Body.Location, Severity.Error, Codes.DuplicateObject,
                        $"{o.Id} is rendered twice: by {Describe(first)} at {first.Body.Location} and by {Describe(o)}")
                    {
                        Clusters = [cluster.Name],
                        Related = [first.Body.Location],
                    });
                    continue;
                }

                byId.Add(o.Id, o);
            }

            return [.. byId.Values
                .OrderBy(o => o.Stage)
                .ThenBy(o => KindOrder.RankWithinStage(o.Id.Kind))
                .ThenBy(o => o.Id.Group, StringComparer.Ordinal)
                .ThenBy(o => o.Id.Kind, StringComparer.Ordinal)
                .ThenBy(o => o.Id.Namespace ?? string.Empty, StringComparer.Ordinal)
                .ThenBy(o => o.Id.Name, StringComparer.Ordinal)];
        }

        /// <summary>The body with its namespace set.</summary>
        internal static MappingNode Namespaced(MappingNode body, string ns) => body.With("metadata", WithNamespace((MappingNode)body["metadata"]!, ns));

        /// <summary>metadata with namespace set right after name, where people look for it.</summary>
        private static MappingNode WithNamespace(MappingNode metadata, string ns)
        {
            var entries = ImmutableArray.CreateBuilder<KeyValuePair<ScalarNode, Node>>(metadata.Count + 1);
            var value = ScalarNode.String(ns, metadata.Location);
            foreach (var entry in metadata.Entries)
            {
                if (entry.Key.Value == "namespace")
                {
                    continue; // replaced below
                }

                entries.Add(entry);
                if (entry.Key.Value == "name")
                {
                    entries.Add(new(ScalarNode.String("namespace", metadata.Location), value));
                }
            }

            return new MappingNode(entries.ToImmutable(), metadata.Location);
        }

        private static string Describe(RenderedObject o) => $"{o.OwnerKind} '{o.Owner}'";

        private static bool Targets(PatchTarget target, MappingNode body)
        {
            var id = ObjectIdentity.From(body);
            return (target.Kind is null || target.Kind == id.Kind)
                && (target.Name is null || target.Name == id.Name)
                && (target.Group is null || target.Group == id.Group)
                && (target.Version is null || target.Version == id.Version)
                && (target.Namespace is null || target.Namespace == id.Namespace);
        }

        private Node? Resolve(Workload workload, string name, ref Node? substitutedValues)
        {
            if (name.StartsWith("values.", StringComparison.Ordinal))
            {
                if (substitutedValues is null)
                {
                    substitutedValues = Substitution.Apply(workload.Values, n => n.StartsWith("values.", StringComparison.Ordinal) ? null : ResolveCommon(workload, n), Report);
                }

                return Lookup(substitutedValues, name["values.".Length..]);
            }

            return ResolveCommon(workload, name);
        }

        private Node? ResolveCommon(Workload workload, string name)
        {
            var at = SourceLocation.None;
            switch (name)
            {
                case "cluster.name":
                    return ScalarNode.String(cluster.Name, at);
                case "fleet.name":
                    return ScalarNode.String(_fleet.Name, at);
                case "workload.name":
                    return ScalarNode.String(workload.Name, at);
                case "workload.namespace":
                    return ScalarNode.String(workload.Namespace ?? "default", at);
                case "cluster.location.lat" or "cluster.location.lon":
                    var location = facts.Location ?? cluster.GeoLocation;
                    if (location is null)
                    {
                        return null;
                    }

                    var value = name.EndsWith("lat", StringComparison.Ordinal) ? location.Value.Lat : location.Value.Lon;
                    return new ScalarNode(value.ToString("R", CultureInfo.InvariantCulture), ScalarKind.Float, at);
                case "cluster.capacity.cpu":
                    return cluster.Capacity?.Cpu is { } cpu ? ScalarNode.String(cpu.Text, at) : null;
                case "cluster.capacity.memory":
                    return cluster.Capacity?.Memory is { } memory ? ScalarNode.String(memory.Text, at) : null;
                case "cluster.capacity.storage":
                    return cluster.Capacity?.Storage is { } storage ? ScalarNode.String(storage.Text, at) : null;
            }

            if (name.StartsWith("cluster.labels.", StringComparison.Ordinal))
            {
                return cluster.Labels.TryGetValue(name["cluster.labels.".Length..], out var label) ? ScalarNode.String(label, at) : null;
            }

            if (name.StartsWith("cluster.values.", StringComparison.Ordinal))
            {
                return Lookup(cluster.Values, name["cluster.values.".Length..]);
            }

            return null;
        }

        private static Node? Lookup(Node root, string path)
        {
            var current = root;
            foreach (var part in path.Split('.'))
            {
                current = current switch
                {
                    MappingNode map => map[part],
                    SequenceNode seq when int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < seq.Count => seq[i],
                    _ => null,
                };
                if (current is null)
                {
                    return null;
                }
            }

            return current;
        }

        private void Report(SourceLocation location, string code, string message) => Report(location, code, message, Severity.Error);

        private void Report(SourceLocation location, string code, string message, Severity severity)
        {
            if (code == Codes.UnknownVariable && message.StartsWith("unknown variable", StringComparison.Ordinal))
            {
                message += " (known: cluster.name, cluster.labels.<key>, cluster.values.<path>, cluster.location.lat|lon, cluster.capacity.cpu|memory|storage, values.<path>, workload.name, workload.namespace, fleet.name)";
            }

            _diagnostics.Add(new Diagnostic(location, severity, code, message) { Clusters = [cluster.Name] });
        }
    }
}

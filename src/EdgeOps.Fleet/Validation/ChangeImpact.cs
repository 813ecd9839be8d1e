using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;

namespace EdgeOps.Fleet.Validation;

/// <summary>
/// Which clusters' desired state a set of changed files can affect, from the fleet before and after the
/// change: a cluster's own file → that cluster; a file of a workload (its definition, a manifest, anything
/// in its folder), a device config or an upgrade plan → the clusters it is placed on before or after;
/// anything else the fleet may read (fleet.yaml, policies, trust files, an unowned YAML file) → every
/// cluster. Files nothing reads (Markdown, text, docs/) affect none.
/// </summary>
public sealed record ChangeImpact(bool All, IReadOnlySet<string> Clusters, IReadOnlyList<string> Reasons)
{
    private static readonly string[] InertExtensions = [".md", ".txt", ".png", ".jpg", ".jpeg", ".svg", ".gif"];

    public static ChangeImpact Of(IReadOnlySet<string> changed, FleetModel before, FleetModel after)
    {
        var owners = new Owners(before, after);
        var clusters = new SortedSet<string>(StringComparer.Ordinal);
        var reasons = new List<string>();
        var present = after.Clusters.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var path in changed)
        {
            var owned = owners.Of(path);
            if (owned.Count == 0)
            {
                if (IsInert(path))
                {
                    continue;
                }

                return new ChangeImpact(true, present, [$"{path} is read by the whole fleet"]);
            }

            foreach (var owner in owned)
            {
                var affected = owner.Clusters().Where(present.Contains).ToList();
                clusters.UnionWith(affected);
                reasons.Add($"{path}: {owner.Describe} ({affected.Count} cluster{(affected.Count == 1 ? string.Empty : "s")})");
            }
        }

        return new ChangeImpact(false, clusters, reasons);
    }

    /// <summary>
    /// The files of the fleet as it was that <see cref="Of"/> needs: fleet.yaml, the changed files, and the
    /// folders of the objects that own them now (their definitions and manifests), so that the old fleet is read
    /// only where the change is, not whole.
    /// </summary>
    public static (IReadOnlySet<string> Files, IReadOnlySet<string> Folders) BeforeFiles(IReadOnlySet<string> changed, FleetModel after)
    {
        var folders = new HashSet<string>(StringComparer.Ordinal);
        var files = new HashSet<string>(changed, StringComparer.Ordinal) { "fleet.yaml", "fleet.yml" };
        var owners = new Owners(after, after);
        foreach (var path in changed)
        {
            foreach (var owner in owners.Of(path))
            {
                files.UnionWith(owner.Files);
                folders.UnionWith(owner.Folders);
            }
        }

        return (files, folders);
    }

    private static bool IsInert(string path) =>
        path.Split('/').Any(segment => segment.StartsWith('.'))
        || path.StartsWith("docs/", StringComparison.Ordinal)
        || InertExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase))
        || Path.GetFileName(path) is "LICENSE" or "CODEOWNERS" or "OWNERS";

    /// <summary>An object a changed file belongs to, and the clusters it reaches.</summary>
    private sealed record Owner(string Describe, Func<IEnumerable<string>> Clusters)
    {
        public List<string> Files { get; } = [];

        public List<string> Folders { get; } = [];
    }

    private sealed class Owners
    {
        private readonly Dictionary<string, List<Owner>> _byFile = new(StringComparer.Ordinal);
        private readonly List<(string Folder, Owner Owner)> _byFolder = [];

        public Owners(FleetModel before, FleetModel after)
        {
            foreach (var fleet in new[] { before, after })
            {
                foreach (var cluster in fleet.Clusters)
                {
                    var name = cluster.Name;
                    Add(cluster.Location.Path, new Owner($"cluster {name}", () => [name]));
                }

                foreach (var workload in fleet.Workloads)
                {
                    var owner = Placed("workload", workload.Name, before, after, f => f.Workloads.FirstOrDefault(w => w.Name == workload.Name)?.Placement);
                    Add(workload.Location.Path, owner);
                    foreach (var manifest in workload.Manifests)
                    {
                        Add(manifest.File, owner);
                    }

                    if (workload.Directory.Length > 0)
                    {
                        _byFolder.Add((workload.Directory.TrimEnd('/') + "/", owner));
                        owner.Folders.Add(workload.Directory.TrimEnd('/') + "/");
                    }
                }

                foreach (var config in fleet.DeviceConfigs)
                {
                    Add(config.Location.Path, Placed("device config", config.Name, before, after, f => f.DeviceConfigs.FirstOrDefault(d => d.Name == config.Name)?.Placement));
                }

                foreach (var plan in fleet.UpgradePlans)
                {
                    Add(plan.Location.Path, Placed("upgrade plan", plan.Name, before, after, f => f.UpgradePlans.FirstOrDefault(u => u.Name == plan.Name)?.Placement));
                }
            }
        }

        public IReadOnlyList<Owner> Of(string path)
        {
            var owners = _byFile.GetValueOrDefault(path) ?? [];
            var inFolder = _byFolder.Where(f => path.StartsWith(f.Folder, StringComparison.Ordinal)).Select(f => f.Owner);
            return [.. owners.Concat(inFolder).DistinctBy(o => o.Describe)];
        }

        private void Add(string path, Owner owner)
        {
            if (path.Length == 0)
            {
                return;
            }

            owner.Files.Add(path);
            if (!_byFile.TryGetValue(path, out var list))
            {
                _byFile[path] = list = [];
            }

            if (!list.Any(o => o.Describe == owner.Describe))
            {
                list.Add(owner);
            }
        }

        /// <summary>
        /// The clusters an object is placed on before or after. The old placement is judged against the clusters as
        /// they are now as well as those the old fleet holds: the old fleet may be read only in part, and a cluster
        /// whose own file changed is chosen by that change anyway.
        /// </summary>
        private static Owner Placed(string kind, string name, FleetModel before, FleetModel after, Func<FleetModel, Placement?> placement) =>
            new($"{kind} {name}", () => new[] { (Fleet: before, Clusters: before.Clusters.Concat(after.Clusters)), (Fleet: after, Clusters: after.Clusters.AsEnumerable()) }
                .SelectMany(side => placement(side.Fleet) is { } p ? side.Clusters.Where(c => PlacementEvaluator.Matches(p, c)).Select(c => c.Name) : [])
                .Distinct(StringComparer.Ordinal));
    }
}

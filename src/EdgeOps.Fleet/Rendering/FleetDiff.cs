using System.Collections.Immutable;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Rendering;

public enum ChangeKind
{
    Added,
    Changed,
    Removed,
}

/// <summary>One value that differs: its JSON path, and the old and new value as short text ("(absent)" when missing).</summary>
public sealed record FieldChange(string Path, string Old, string New);

/// <summary>One object that differs between two revisions, with the fields that changed.</summary>
public sealed record ObjectChange(ChangeKind Kind, ObjectIdentity Id, ImmutableArray<FieldChange> Fields)
{
    public ImmutableArray<string> ChangedPaths => [.. Fields.Select(f => f.Path)];
}

public enum ClusterChangeKind
{
    Added,
    Removed,
    Changed,
    Untouched,
}

public sealed record ClusterDiff(string Cluster, ClusterChangeKind Kind, ImmutableArray<ObjectChange> Changes);

/// <summary>
/// Compares two fleet revisions cluster by cluster: which objects each cluster gains, loses and
/// sees changed, and which clusters are untouched. Objects compare by content, not by location.
/// </summary>
public static class FleetDiff
{
    private const int MaxPathsPerObject = 8;

    /// <param name="include">Which clusters to compare (by the cluster as either revision has it); null for all.</param>
    public static ImmutableArray<ClusterDiff> Compare(FleetModel before, FleetModel after, Func<Cluster, bool>? include = null)
    {
        var oldRenderer = new Renderer(before);
        var newRenderer = new Renderer(after);
        var names = before.Clusters.Select(c => c.Name).Union(after.Clusters.Select(c => c.Name), StringComparer.Ordinal)
            .Where(n => include is null || (after.FindCluster(n) ?? before.FindCluster(n)) is { } c && include(c))
            .Order(StringComparer.Ordinal).ToList();
        var results = new ClusterDiff[names.Count];
        Parallel.For(0, names.Count, i =>
        {
            var name = names[i];
            var oldCluster = before.FindCluster(name);
            var newCluster = after.FindCluster(name);
            var oldObjects = oldCluster is null ? [] : oldRenderer.Render(oldCluster).State.Objects;
            var newObjects = newCluster is null ? [] : newRenderer.Render(newCluster).State.Objects;
            var changes = CompareObjects(oldObjects, newObjects);
            var kind = oldCluster is null ? ClusterChangeKind.Added
                : newCluster is null ? ClusterChangeKind.Removed
                : changes.IsEmpty ? ClusterChangeKind.Untouched : ClusterChangeKind.Changed;
            results[i] = new ClusterDiff(name, kind, changes);
        });
        return [.. results];
    }

    public static ImmutableArray<ObjectChange> CompareObjects(ImmutableArray<RenderedObject> before, ImmutableArray<RenderedObject> after)
    {
        var oldById = before.ToDictionary(o => o.Id);
        var newById = after.ToDictionary(o => o.Id);
        var changes = ImmutableArray.CreateBuilder<ObjectChange>();
        foreach (var o in after)
        {
            if (!oldById.TryGetValue(o.Id, out var old))
            {
                changes.Add(new ObjectChange(ChangeKind.Added, o.Id, []));
            }
            else if (!ReferenceEquals(old.Body, o.Body) && !NodeEquality.Equal(old.Body, o.Body))
            {
                var fields = new List<FieldChange>();
                ChangedFields(old.Body, o.Body, string.Empty, fields);
                changes.Add(new ObjectChange(ChangeKind.Changed, o.Id, [.. fields.Take(MaxPathsPerObject)]));
            }
        }

        foreach (var o in before)
        {
            if (!newById.ContainsKey(o.Id))
            {
                changes.Add(new ObjectChange(ChangeKind.Removed, o.Id, []));
            }
        }

        return changes.ToImmutable();
    }

    private static void ChangedFields(Node a, Node b, string path, List<FieldChange> fields)
    {
        if (fields.Count > MaxPathsPerObject)
        {
            return;
        }

        if (a is MappingNode ma && b is MappingNode mb)
        {
            foreach (var key in ma.Entries.Select(e => e.Key.Value).Union(mb.Entries.Select(e => e.Key.Value), StringComparer.Ordinal))
            {
                var child = path.Length == 0 ? key : $"{path}.{key}";
                var va = ma[key];
                var vb = mb[key];
                if (va is null || vb is null)
                {
                    fields.Add(new FieldChange(child, Show(va), Show(vb)));
                }
                else if (!NodeEquality.Equal(va, vb))
                {
                    ChangedFields(va, vb, child, fields);
                }
            }

            return;
        }

        if (a is SequenceNode sa && b is SequenceNode sb && sa.Count == sb.Count)
        {
            for (var i = 0; i < sa.Count; i++)
            {
                if (!NodeEquality.Equal(sa[i], sb[i]))
                {
                    ChangedFields(sa[i], sb[i], $"{path}[{i}]", fields);
                }
            }

            return;
        }

        fields.Add(new FieldChange(path.Length == 0 ? "(whole object)" : path, Show(a), Show(b)));
    }

    /// <summary>A value as it reads in a diff line: scalars quoted (and cut at 60 characters), collections by size.</summary>
    private static string Show(Node? node) => node switch
    {
        null => "(absent)",
        ScalarNode { IsNull: true } => "null",
        ScalarNode s when s.Kind is ScalarKind.String => "\"" + (s.Value.Length > 60 ? s.Value[..59] + "…" : s.Value).Replace("\n", "\\n", StringComparison.Ordinal) + "\"",
        ScalarNode s => s.Value,
        MappingNode m => $"{{{m.Entries.Length} fields}}",
        SequenceNode q => $"[{q.Count} items]",
        _ => "?",
    };
}

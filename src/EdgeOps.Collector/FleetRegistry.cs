using System.Collections.Frozen;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;
using EdgeOps.Reconciler.Source;
using EdgeOps.Trust.Ssh;

namespace EdgeOps.Collector;

/// <summary>One cluster as the fleet repo declares it: who may report as it (its report key), its labels, where it is.</summary>
public sealed record RegisteredCluster(Cluster Cluster, SshPublicKey? ReportKey, string? KeyProblem);

/// <summary>The fleet at one revision, as far as the collector needs it.</summary>
public sealed record FleetSnapshot(string Revision, string FleetName, FrozenDictionary<string, RegisteredCluster> Clusters, IReadOnlyList<Cluster> ClusterList, RolloutSpec Rollout)
{
    public static readonly FleetSnapshot Empty = new(string.Empty, string.Empty, FrozenDictionary<string, RegisteredCluster>.Empty, [], RolloutSpec.Default);
}

/// <summary>
/// The fleet repo is the registry of who may report as whom: the collector follows it (a bare cache, fetched
/// every refresh interval, as an agent does) and keeps the clusters of its head — report keys, labels, locations —
/// and the fleet's default rollout, from which it computes waves.
/// </summary>
public sealed class FleetRegistry(GitSourceOptions source)
{
    private readonly GitSource _git = new(source);
    private FleetSnapshot _current = FleetSnapshot.Empty;

    public FleetSnapshot Current => Volatile.Read(ref _current);

    public string DisplayUrl => _git.DisplayUrl;

    /// <summary>Fetches the repo and loads its head; keeps the last good snapshot when the repo is unreachable or its head does not load.</summary>
    public FleetSnapshot Refresh()
    {
        var sync = _git.Sync();
        if (sync.Revision is not { } head)
        {
            throw new InvalidOperationException($"fleet repo {_git.DisplayUrl} has no revision yet: {sync.Error}");
        }

        if (head == Current.Revision)
        {
            return Current;
        }

        using var tree = GitTreeFleetSource.FromRepository(_git.Open(), head);
        var fleet = new FleetLoader().Load(tree).Fleet;
        var clusters = fleet.Clusters.ToFrozenDictionary(c => c.Name, Register, StringComparer.Ordinal);
        var snapshot = new FleetSnapshot(head, fleet.Name, clusters, fleet.Clusters, fleet.Settings.Defaults.Rollout);
        Volatile.Write(ref _current, snapshot);
        return snapshot;
    }

    /// <summary>Uses a snapshot made elsewhere (tests, benchmarks).</summary>
    public void Use(FleetSnapshot snapshot) => Volatile.Write(ref _current, snapshot);

    public static FleetSnapshot Snapshot(string revision, FleetModel fleet) =>
        new(revision, fleet.Name, fleet.Clusters.ToFrozenDictionary(c => c.Name, Register, StringComparer.Ordinal), fleet.Clusters, fleet.Settings.Defaults.Rollout);

    private static RegisteredCluster Register(Cluster cluster)
    {
        if (cluster.ReportKey is not { } line)
        {
            return new RegisteredCluster(cluster, null, "its Cluster object lists no spec.reportKey");
        }

        var parts = line.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            return new RegisteredCluster(cluster, SshPublicKey.Parse(parts[0], parts.Length > 1 ? parts[1] : string.Empty), null);
        }
        catch (FormatException ex)
        {
            return new RegisteredCluster(cluster, null, $"its spec.reportKey is unusable: {ex.Message}");
        }
    }
}

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

/// <summary>A head of the fleet repo that does not load, and why: the collector goes on with the last revision that did.</summary>
public sealed record RejectedHead(string Revision, string Problem);

/// <summary>
/// The fleet repo is the registry of who may report as whom: the collector follows it (a bare cache, fetched
/// every refresh interval, as an agent does) and keeps the clusters of its head — report keys, labels, locations —
/// and the fleet's default rollout, from which it computes waves. A head with errors is not followed, as agents do
/// not apply it: a typo in one Cluster file must not unregister that cluster (its reports would be refused), nor a
/// broken fleet.yaml reset the waves.
/// </summary>
public sealed class FleetRegistry(GitSourceOptions source)
{
    /// <summary>How far back a collector that starts on a broken head looks for a revision that loads.</summary>
    public const int MaxLookBack = 100;

    private readonly GitSource _git = new(source);
    private FleetSnapshot _current = FleetSnapshot.Empty;
    private RejectedHead? _rejected;

    public FleetSnapshot Current => Volatile.Read(ref _current);

    /// <summary>The head, when it does not load (and so is not what the collector follows); null otherwise.</summary>
    public RejectedHead? Rejected => Volatile.Read(ref _rejected);

    public string DisplayUrl => _git.DisplayUrl;

    /// <summary>
    /// Fetches the repo and loads its head. Keeps the last good snapshot when the repo is unreachable (an exception),
    /// or when the head has errors (then <see cref="Rejected"/> says why, and a <see cref="FleetSourceException"/>
    /// says so once per such head). Started on a broken head, it takes the newest first-parent ancestor that loads.
    /// </summary>
    public FleetSnapshot Refresh()
    {
        var sync = _git.Sync();
        if (sync.Revision is not { } head)
        {
            throw new InvalidOperationException($"fleet repo {_git.DisplayUrl} has no revision yet: {sync.Error}");
        }

        if (head == Current.Revision || head == Rejected?.Revision)
        {
            return Current;
        }

        var (snapshot, problem) = Load(head);
        if (snapshot is not null)
        {
            Volatile.Write(ref _rejected, null);
            Volatile.Write(ref _current, snapshot);
            return snapshot;
        }

        Volatile.Write(ref _rejected, new RejectedHead(head, problem!));
        if (Current.Revision.Length == 0 && LastGood(head) is { } ancestor)
        {
            Volatile.Write(ref _current, ancestor);
            return ancestor;
        }

        throw new FleetSourceException(Current.Revision.Length == 0
            ? $"head {head[..12]} has errors ({problem}), and so has every revision of the last {MaxLookBack} before it"
            : $"head {head[..12]} has errors ({problem})");
    }

    /// <summary>The fleet at <paramref name="revision"/>, or its first error.</summary>
    private (FleetSnapshot? Snapshot, string? Problem) Load(string revision)
    {
        using var tree = GitTreeFleetSource.FromRepository(_git.Open(), revision);
        var result = new FleetLoader().Load(tree);
        if (result.Diagnostics.FirstOrDefault(d => d.IsError) is { } error)
        {
            return (null, error.ToString());
        }

        return (Snapshot(revision, result.Fleet), null);
    }

    private FleetSnapshot? LastGood(string head)
    {
        using var repository = _git.Open();
        var commit = repository.Lookup(head) as LibGit2Sharp.Commit;
        for (var i = 0; i < MaxLookBack && (commit = commit?.Parents.FirstOrDefault()) is not null; i++)
        {
            if (Load(commit.Sha).Snapshot is { } snapshot)
            {
                return snapshot;
            }
        }

        return null;
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

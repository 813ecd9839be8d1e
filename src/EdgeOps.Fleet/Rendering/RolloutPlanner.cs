using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EdgeOps.Fleet.Model;

namespace EdgeOps.Fleet.Rendering;

/// <summary>A cluster's place in a rollout: its wave, and its batch within the wave (clusters spread so that no more than the wave's maxUnavailablePercent change at once).</summary>
public sealed record WavePlace(int Wave, string WaveName, int WaveSize, int Batch, int Batches, int BatchSize);

/// <summary>What the fleet knows of one wave of one revision (from the collector): when it opened and passed, how many of its batches passed, whether it is halted.</summary>
public sealed record WaveGate(DateTimeOffset? Opened, int BatchesPassed, bool Passed, bool Halted, DateTimeOffset? PassedAt = null);

public enum RolloutVerdict
{
    Proceed,
    Wait,
    Halted,
}

/// <summary>The rollout's answer for one cluster: go, wait (why, and until when if known), or halted.</summary>
public sealed record RolloutDecision(RolloutVerdict Verdict, string Reason, DateTimeOffset? Until = null)
{
    public static RolloutDecision Go(string reason) => new(RolloutVerdict.Proceed, reason);
}

/// <summary>
/// Rollouts as pure functions of the fleet, the cluster and the clock: which wave a cluster is in (the first wave
/// whose selector matches; clusters no wave selects form an implicit last wave), its batch within the wave (a
/// deterministic per-revision shuffle, so the same clusters do not always go first), and whether it may apply a
/// revision now, given the gate state of the waves (which the collector provides) and its maintenance window.
/// Without gate state for an earlier wave (collector unreachable) a later wave waits: the safe default.
/// </summary>
public static class RolloutPlanner
{
    public const string RestWave = "(rest)";

    public static int WaveOf(RolloutSpec spec, Cluster cluster)
    {
        for (var i = 0; i < spec.Waves.Length; i++)
        {
            if (spec.Waves[i].Selector.Matches(cluster.Labels))
            {
                return i;
            }
        }

        return spec.Waves.Length;
    }

    public static WavePlace Place(RolloutSpec spec, Cluster cluster, IReadOnlyList<Cluster> clusters, string revision)
    {
        var wave = WaveOf(spec, cluster);
        var members = clusters.Where(c => WaveOf(spec, c) == wave)
            .OrderBy(c => Shuffle(revision, c.Name))
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => c.Name)
            .ToList();
        var percent = wave < spec.Waves.Length ? spec.Waves[wave].MaxUnavailablePercent ?? spec.MaxUnavailablePercent : spec.MaxUnavailablePercent;
        var batchSize = Math.Max(1, members.Count * percent / 100);
        var index = members.IndexOf(cluster.Name);
        var name = wave < spec.Waves.Length ? spec.Waves[wave].Name : RestWave;
        return new WavePlace(wave, name, members.Count, index / batchSize, (members.Count + batchSize - 1) / batchSize, batchSize);
    }

    /// <summary>
    /// May the cluster at <paramref name="place"/> apply the revision now? Its wave must be open (the first at once;
    /// a later one once the previous wave passed and, if it has a pause, the pause since it passed has elapsed), its
    /// batch must have come (the batches before it passed), and its maintenance window must be open.
    /// </summary>
    /// <param name="revisionTime">When the revision was committed: the first wave opens then, and a wave with <c>gate: time</c> opens its pause after the previous one opened, without the collector.</param>
    public static RolloutDecision Decide(RolloutSpec spec, WavePlace place, Func<int, WaveGate?> gates, MaintenanceWindow? window, DateTimeOffset now, DateTimeOffset? revisionTime = null)
    {
        for (var earlier = 0; earlier <= place.Wave; earlier++)
        {
            if (gates(earlier) is { Halted: true })
            {
                return new RolloutDecision(RolloutVerdict.Halted, $"the rollout is halted at wave '{Name(spec, earlier)}'");
            }
        }

        if (place.Wave > 0 && place.Wave < spec.Waves.Length && spec.Waves[place.Wave].Gate == RolloutGateKind.Time && revisionTime is { } committed)
        {
            var opens = TimeGateOpens(spec, place.Wave, committed);
            if (now < opens)
            {
                return new RolloutDecision(RolloutVerdict.Wait, $"wave '{place.WaveName}' opens by time at {opens:u} (gate: time)", opens);
            }
        }
        else if (place.Wave > 0)
        {
            var previous = place.Wave - 1;
            if (gates(previous) is not { Passed: true } gate)
            {
                return new RolloutDecision(RolloutVerdict.Wait, $"wave '{place.WaveName}' waits for wave '{Name(spec, previous)}' to pass{(gates(previous) is null ? " (no gate state: the collector has not been reached)" : string.Empty)}");
            }

            // A wave's pause: a soak time, counted from when the previous wave passed (was applied and healthy), or
            // opened when the gate does not say when it passed.
            var pause = place.Wave < spec.Waves.Length ? spec.Waves[place.Wave].Pause : null;
            if (pause is { } wait && (gate.PassedAt ?? gate.Opened) is { } since && now < since + wait)
            {
                var what = gate.PassedAt is null ? "opened" : "passed";
                return new RolloutDecision(RolloutVerdict.Wait, $"wave '{place.WaveName}' opens {wait} after wave '{Name(spec, previous)}' {what}", since + wait);
            }
        }

        if (place.Batch > 0 && (gates(place.Wave)?.BatchesPassed ?? 0) < place.Batch)
        {
            return new RolloutDecision(RolloutVerdict.Wait, $"batch {place.Batch + 1} of {place.Batches} in wave '{place.WaveName}' waits for the batches before it ({place.BatchSize} clusters at a time)");
        }

        if (window is not null)
        {
            var state = MaintenanceWindows.Evaluate(window, now);
            if (!state.Open)
            {
                return new RolloutDecision(RolloutVerdict.Wait, $"outside the maintenance window '{window.Schedule.Value}' ({window.TimeZone.Value})", state.OpensAt);
            }
        }

        return RolloutDecision.Go($"wave '{place.WaveName}', batch {place.Batch + 1} of {place.Batches}");
    }

    /// <summary>When a time-gated wave opens: the commit time plus the pauses of the waves up to it (a wave without a pause opens with the one before it).</summary>
    public static DateTimeOffset TimeGateOpens(RolloutSpec spec, int wave, DateTimeOffset revisionTime)
    {
        var opens = revisionTime;
        for (var w = 1; w <= Math.Min(wave, spec.Waves.Length - 1); w++)
        {
            opens += spec.Waves[w].Pause ?? TimeSpan.Zero;
        }

        return opens;
    }

    private static string Name(RolloutSpec spec, int wave) => wave < spec.Waves.Length ? spec.Waves[wave].Name : RestWave;

    /// <summary>A stable per-revision order: the first bytes of SHA-256(revision/cluster).</summary>
    private static ulong Shuffle(string revision, string cluster) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes($"{revision}/{cluster}")));
}

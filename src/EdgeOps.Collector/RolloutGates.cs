using System.Collections.Immutable;
using EdgeOps.Collector.Storage;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Status;

namespace EdgeOps.Collector;

/// <summary>A cluster's latest report as the collector reads it.</summary>
public sealed record ClusterReport(string Cluster, DateTimeOffset ReceivedAt, AgentReport Report);

/// <summary>What computing a rollout found beyond its status: waves that opened or passed now, and a halt the failures call for.</summary>
public sealed record GateChanges(IReadOnlyList<WaveMark> Marks, Halt? Halt);

/// <summary>
/// The gates of one revision's rollout, as a pure function of the fleet, the clusters' latest reports, the marks
/// and halts recorded so far, and the clock. A cluster belongs to the wave it reported for the revision (agents apply
/// a workload's own rollout), else to the wave the fleet's default rollout gives it. A wave passes when every
/// cluster in it has applied the revision and is healthy — failed ones within the wave's <c>maxFailures</c>, stale
/// ones (no report for <c>staleAfter</c>; one that never reported, once the collector has run that long) not waited
/// for — and at least one is healthy; once passed it stays passed,
/// and the next wave opens. Failures beyond <c>maxFailures</c> halt the rollout: no further wave opens.
/// </summary>
public static class RolloutGates
{
    public static (RolloutStatus Status, GateChanges Changes) Compute(
        string revision,
        FleetSnapshot fleet,
        IReadOnlyDictionary<string, ClusterReport> reports,
        Halt? halt,
        IReadOnlyList<WaveMark> marks,
        DateTimeOffset? resumedAt,
        DateTimeOffset now,
        TimeSpan staleAfter,
        bool silentIsStale = true)
    {
        var spec = fleet.Rollout;
        var count = spec.Waves.Length + 1;
        var members = new List<(string Name, ClusterReport? Report)>[count];
        for (var i = 0; i < count; i++)
        {
            members[i] = [];
        }

        foreach (var cluster in fleet.ClusterList)
        {
            var report = reports.GetValueOrDefault(cluster.Name);
            var wave = report?.Report.Rollout is { } position && position.Revision == revision ? Math.Clamp(position.Wave, 0, count - 1) : RolloutPlanner.WaveOf(spec, cluster);
            members[wave].Add((cluster.Name, report));
        }

        var marksByWave = marks.ToDictionary(m => m.Wave);
        var newMarks = new List<WaveMark>();
        Halt? newHalt = null;
        var waves = ImmutableArray.CreateBuilder<WaveStatus>();
        var previousPassed = true;
        DateTimeOffset? previousPassedAt = null;
        for (var w = 0; w < count; w++)
        {
            if (w == count - 1 && members[w].Count == 0)
            {
                break; // no cluster falls outside the declared waves: no "(rest)" wave to show
            }

            var name = w < spec.Waves.Length ? spec.Waves[w].Name : RolloutPlanner.RestWave;
            var budget = spec.FailuresAllowed(w);
            int total = members[w].Count, applied = 0, healthy = 0, failed = 0, failedSinceResume = 0, waiting = 0, stale = 0;
            var batches = new Dictionary<int, (int Healthy, int Failed, int Expected)>();
            foreach (var (_, report) in members[w])
            {
                if (report is null ? silentIsStale : now - report.ReceivedAt > staleAfter)
                {
                    stale++;
                }

                if (report is null)
                {
                    continue;
                }

                var r = report.Report;
                var isApplied = r.Applied == revision;
                var isHealthy = isApplied && r.Healthy;
                // Failed in the pass this report describes, or before it: a cluster does not try a revision that failed
                // on it again, and says so in every report after, so its failure is not forgotten when it is back on the
                // old revision, nor missed when the collector never received the failing pass's own report.
                var failedNow = !isApplied && r.Attempted == revision && r.Outcome is "Failed" or "RolledBack" or "Invalid";
                var failedBefore = !isApplied && r.Failed == revision;
                var isFailed = failedNow || failedBefore;
                applied += isApplied ? 1 : 0;
                healthy += isHealthy ? 1 : 0;
                failed += isFailed ? 1 : 0;
                // After a resume, only failures reported since count towards a new halt; one from before the resume,
                // repeated, does not halt again what the operator resumed.
                failedSinceResume += resumedAt is null ? (isFailed ? 1 : 0) : (failedNow && report.ReceivedAt > resumedAt ? 1 : 0);
                waiting += r.Rollout is { Revision: var rev, Verdict: "Wait" } && rev == revision && !isApplied ? 1 : 0;
                if (r.Rollout is { } position && position.Revision == revision && position.BatchSize > 0)
                {
                    var expected = Math.Min(position.BatchSize, position.WaveSize - (position.Batch * position.BatchSize));
                    var batch = batches.TryGetValue(position.Batch, out var seen) ? seen : (Healthy: 0, Failed: 0, Expected: expected);
                    batches[position.Batch] = (batch.Healthy + (isHealthy ? 1 : 0), batch.Failed + (isFailed ? 1 : 0), expected);
                }
            }

            if (newHalt is null && halt is null && budget.IsExceeded(failedSinceResume, total))
            {
                newHalt = new Halt(revision, $"wave '{name}': {failedSinceResume} of {total} clusters failed, more than maxFailures {budget}", now, "collector");
            }

            var batchesPassed = 0;
            while (batches.TryGetValue(batchesPassed, out var b) && b.Healthy + b.Failed >= b.Expected && b.Healthy > 0)
            {
                batchesPassed++;
            }

            var mark = marksByWave.GetValueOrDefault(w);
            var openedAt = mark?.OpenedAt;
            var passedAt = mark?.PassedAt;
            var halted = halt is not null || newHalt is not null;
            string gate;
            if (passedAt is not null)
            {
                gate = "passed";
            }
            else if (!previousPassed)
            {
                gate = "pending";
            }
            else if (halted)
            {
                gate = "halted";
            }
            else
            {
                if (openedAt is null)
                {
                    openedAt = w == 0 ? now : previousPassedAt ?? now;
                    newMarks.Add(new WaveMark(revision, w, openedAt, null));
                }

                var settled = healthy + failed + stale >= total;
                if (total == 0 || (settled && healthy > 0 && !budget.IsExceeded(failed, total)))
                {
                    passedAt = now;
                    newMarks.Add(new WaveMark(revision, w, openedAt, passedAt));
                    gate = "passed";
                }
                else
                {
                    gate = "open";
                }
            }

            waves.Add(new WaveStatus
            {
                Name = name,
                Index = w,
                Total = total,
                Applied = applied,
                Healthy = healthy,
                Failed = failed,
                Waiting = waiting,
                Stale = stale,
                Gate = gate,
                OpenedAt = openedAt,
                PassedAt = passedAt,
                BatchesPassed = batchesPassed,
                MaxFailures = budget.ToString(),
            });
            previousPassed = gate == "passed";
            previousPassedAt = passedAt;
        }

        var effective = halt ?? newHalt;
        var status = new RolloutStatus
        {
            Revision = revision,
            Halted = effective is not null,
            HaltReason = effective?.Reason,
            HaltedAt = effective?.At,
            Waves = waves.ToImmutable(),
        };
        return (status, new GateChanges(newMarks, newHalt));
    }
}

using System.Collections.Frozen;
using System.Collections.Immutable;
using EdgeOps.Collector.Storage;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Reconciler.Status;

namespace EdgeOps.Collector.Tests;

/// <summary>
/// Rollout gates as a pure function: which wave each cluster is in, when a wave passes (all applied and healthy,
/// failures within maxFailures, stale clusters not waited for), that passing is kept, that failures beyond the budget
/// halt the rollout and no later wave opens, and how batches pass.
/// </summary>
public sealed class CollectorRolloutGateTests
{
    private const string Rev = "rev-2";
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Stale = TimeSpan.FromMinutes(15);

    private static Cluster Cluster(string name, string ring) =>
        new(new ObjectMeta(new Located<string>(name, SourceLocation.None), ImmutableSortedDictionary<string, string>.Empty.Add("ring", ring), SourceLocation.None),
            SourceLocation.None, null, null, null, null, [], null, EdgeOps.Fleet.Yaml.MappingNode.Empty);

    private static LabelSelector Ring(string ring) =>
        new(ImmutableSortedDictionary<string, string>.Empty.Add("ring", ring), [], SourceLocation.None);

    private static FleetSnapshot Fleet(FailureBudget? maxFailures = null)
    {
        Cluster[] clusters = [Cluster("canary-1", "canary"), .. Enumerable.Range(1, 4).Select(i => Cluster($"main-{i}", "main")), Cluster("lab-1", "lab")];
        var spec = new RolloutSpec([new RolloutWave("canary", Ring("canary"), null, null, SourceLocation.None), new RolloutWave("main", Ring("main"), 50, TimeSpan.FromHours(1), SourceLocation.None)],
            100, SourceLocation.None, maxFailures);
        return new FleetSnapshot("head", "fleet", clusters.ToFrozenDictionary(c => c.Name, c => new RegisteredCluster(c, null, null), StringComparer.Ordinal), clusters, spec);
    }

    private static ClusterReport Report(string cluster, string? applied, string outcome = "Applied", bool healthy = true, TimeSpan? age = null, RolloutPosition? rollout = null, string? attempted = null) =>
        new(cluster, Now - (age ?? TimeSpan.FromMinutes(1)), new AgentReport
        {
            Cluster = cluster,
            Sequence = 1,
            Applied = applied,
            Attempted = attempted ?? applied,
            Outcome = outcome,
            Healthy = healthy,
            Rollout = rollout,
        });

    private static (RolloutStatus Status, GateChanges Changes) Compute(FleetSnapshot fleet, IEnumerable<ClusterReport> reports, Halt? halt = null, IReadOnlyList<WaveMark>? marks = null, DateTimeOffset? resumed = null) =>
        RolloutGates.Compute(Rev, fleet, reports.ToDictionary(r => r.Cluster), halt, marks ?? [], resumed, Now, Stale);

    [Fact]
    public void FirstWave_OpensAtOnce_LaterWavesArePending_AndTheRestWaveHoldsUndeclaredClusters()
    {
        var (status, changes) = Compute(Fleet(), []);

        Assert.Equal(["canary:open", "main:pending", "(rest):pending"], status.Waves.Select(w => $"{w.Name}:{w.Gate}"));
        Assert.Equal([1, 4, 1], status.Waves.Select(w => w.Total));
        Assert.Equal([new WaveMark(Rev, 0, Now, null)], changes.Marks);
        Assert.Null(changes.Halt);
    }

    [Fact]
    public void Wave_PassesWhenEveryClusterAppliedHealthily_ThenTheNextOpens()
    {
        var (status, changes) = Compute(Fleet(), [Report("canary-1", Rev)]);

        Assert.Equal(["passed", "open", "pending"], status.Waves.Select(w => w.Gate));
        Assert.Contains(new WaveMark(Rev, 0, Now, Now), changes.Marks);
        Assert.Contains(new WaveMark(Rev, 1, Now, null), changes.Marks);
    }

    [Fact]
    public void UnhealthyOrOtherRevision_DoesNotPassTheWave()
    {
        Assert.Equal("open", Compute(Fleet(), [Report("canary-1", Rev, healthy: false)]).Status.Waves[0].Gate);
        Assert.Equal("open", Compute(Fleet(), [Report("canary-1", "rev-1")]).Status.Waves[0].Gate);
    }

    [Fact]
    public void StaleClusters_AreNotWaitedFor_ButAWaveNeedsOneHealthyCluster()
    {
        var passed = Compute(Fleet(), [Report("canary-1", Rev), Report("main-1", Rev), Report("main-2", Rev), Report("main-3", "rev-1", age: TimeSpan.FromHours(2))],
            marks: [new WaveMark(Rev, 0, Now, Now)]).Status;
        var allStale = Compute(Fleet(), [Report("canary-1", Rev, age: TimeSpan.FromHours(1))]).Status;

        Assert.Equal("passed", passed.Waves[1].Gate); // main-3 stale, main-4 silent (stale): not waited for
        Assert.Equal(2, passed.Waves[1].Stale);
        Assert.Equal("passed", allStale.Waves[0].Gate); // its only member applied healthily, even if it went quiet since
    }

    [Fact]
    public void ClustersThatNeverReported_AreWaitedFor_UntilTheCollectorHasRunForStaleAfter()
    {
        var reports = new[] { Report("canary-1", Rev), Report("main-1", Rev), Report("main-2", Rev) }.ToDictionary(r => r.Cluster);
        var marks = new[] { new WaveMark(Rev, 0, Now, Now) };

        var justStarted = RolloutGates.Compute(Rev, Fleet(), reports, null, marks, null, Now, Stale, silentIsStale: false).Status;
        var runningLong = RolloutGates.Compute(Rev, Fleet(), reports, null, marks, null, Now, Stale, silentIsStale: true).Status;

        Assert.Equal(("open", 0), (justStarted.Waves[1].Gate, justStarted.Waves[1].Stale));
        Assert.Equal(("passed", 2), (runningLong.Waves[1].Gate, runningLong.Waves[1].Stale));
    }

    [Fact]
    public void FailuresBeyondMaxFailures_HaltTheRollout_AndNoLaterWaveOpens()
    {
        var reports = new[] { Report("canary-1", "rev-1", outcome: "RolledBack", healthy: true, attempted: Rev) };

        var (status, changes) = Compute(Fleet(), reports);

        Assert.True(status.Halted);
        Assert.NotNull(changes.Halt);
        Assert.Contains("1 of 1 clusters failed, more than maxFailures 0", changes.Halt!.Reason, StringComparison.Ordinal);
        Assert.Equal(["halted", "pending", "pending"], status.Waves.Select(w => w.Gate));
        Assert.Equal(1, status.Waves[0].Failed);
    }

    [Fact]
    public void FailuresWithinMaxFailures_AsCountOrPercent_DoNotHalt()
    {
        var marks = new[] { new WaveMark(Rev, 0, Now, Now) };
        var reports = new[] { Report("canary-1", Rev), Report("main-1", Rev), Report("main-2", Rev), Report("main-3", Rev), Report("main-4", "rev-1", outcome: "Failed", healthy: false, attempted: Rev) };

        var count = Compute(Fleet(new FailureBudget(1, false)), reports, marks: marks).Status;
        var percent = Compute(Fleet(new FailureBudget(25, true)), reports, marks: marks).Status;
        var strict = Compute(Fleet(new FailureBudget(0, false)), reports, marks: marks).Status;

        Assert.Equal((false, "passed"), (count.Halted, count.Waves[1].Gate));
        Assert.Equal((false, "passed"), (percent.Halted, percent.Waves[1].Gate));
        Assert.True(strict.Halted);
    }

    [Fact]
    public void FailureCarriedByLaterReports_StillCounts_AndHaltsWhenItsOwnReportWasNeverReceived()
    {
        // The passes after a failure keep the old revision and report success; the report names the revision that failed.
        var carried = new ClusterReport("canary-1", Now - TimeSpan.FromMinutes(1), new AgentReport
        {
            Cluster = "canary-1",
            Sequence = 2,
            Applied = "rev-1",
            Failed = Rev,
            Outcome = "Unchanged",
            Healthy = true,
        });

        var (status, changes) = Compute(Fleet(), [carried]);
        var forAnother = RolloutGates.Compute("rev-3", Fleet(), new Dictionary<string, ClusterReport> { ["canary-1"] = carried }, null, [], null, Now, Stale).Status;

        Assert.Equal((true, 1, 0), (status.Halted, status.Waves[0].Failed, status.Waves[0].Applied));
        Assert.Contains("1 of 1 clusters failed", changes.Halt!.Reason, StringComparison.Ordinal);
        Assert.Equal((false, 0), (forAnother.Halted, forAnother.Waves[0].Failed));
    }

    [Fact]
    public void FailureCarriedFromBeforeAResume_IsShownButDoesNotHaltAgain()
    {
        var before = Report("canary-1", "rev-1", outcome: "Unchanged");
        var carried = before with { Report = before.Report with { Failed = Rev, Attempted = null } };

        var (status, changes) = Compute(Fleet(), [carried], resumed: Now - TimeSpan.FromMinutes(5));

        Assert.Equal((false, 1), (status.Halted, status.Waves[0].Failed));
        Assert.Null(changes.Halt);
    }

    [Fact]
    public void AfterResume_OnlyFailuresReportedSinceCountTowardsAHalt()
    {
        var failed = Report("canary-1", "rev-1", outcome: "Failed", healthy: false, attempted: Rev, age: TimeSpan.FromMinutes(10));

        var resumed = Compute(Fleet(), [failed], resumed: Now - TimeSpan.FromMinutes(5));

        Assert.False(resumed.Status.Halted);
        Assert.Equal("open", resumed.Status.Waves[0].Gate);
    }

    [Fact]
    public void PassedWave_StaysPassed_AndAnOperatorHaltStopsTheOpenOne()
    {
        var marks = new[] { new WaveMark(Rev, 0, Now.AddHours(-2), Now.AddHours(-1)) };
        var halt = new Halt(Rev, "bad telemetry", Now, "operator");

        var status = Compute(Fleet(), [Report("canary-1", "rev-1")], halt, marks).Status;

        Assert.Equal(["passed", "halted", "pending"], status.Waves.Select(w => w.Gate));
        Assert.Equal(("bad telemetry", Now.AddHours(-1)), (status.HaltReason, status.Waves[0].PassedAt));
    }

    [Fact]
    public void Batches_PassInOrder_FromWhatTheAgentsReport()
    {
        RolloutPosition Place(int batch) => new() { Revision = Rev, Wave = 1, WaveName = "main", WaveSize = 4, Batch = batch, BatchSize = 2, Verdict = "Proceed" };
        var marks = new[] { new WaveMark(Rev, 0, Now, Now) };
        var reports = new[]
        {
            Report("canary-1", Rev),
            Report("main-1", Rev, rollout: Place(0)), Report("main-2", Rev, rollout: Place(0)),
            Report("main-3", "rev-1", rollout: Place(1) with { Verdict = "Wait" }), Report("main-4", "rev-1", rollout: Place(1) with { Verdict = "Wait" }),
        };

        var wave = Compute(Fleet(), reports, marks: marks).Status.Waves[1];

        Assert.Equal((1, 2, "open"), (wave.BatchesPassed, wave.Waiting, wave.Gate));
    }

    [Fact]
    public void ReportedWave_OverridesTheFleetDefault()
    {
        var position = new RolloutPosition { Revision = Rev, Wave = 0, WaveName = "canary", WaveSize = 2, Batch = 0, BatchSize = 2, Verdict = "Proceed" };

        var status = Compute(Fleet(), [Report("main-1", Rev, rollout: position)]).Status;

        Assert.Equal([2, 3], status.Waves.Take(2).Select(w => w.Total));
    }
}

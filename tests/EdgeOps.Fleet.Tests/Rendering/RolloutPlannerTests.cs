using System.Collections.Immutable;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;

namespace EdgeOps.Fleet.Tests.Rendering;

/// <summary>Waves, spreading within a wave, gates and maintenance windows as pure functions with an injected time.</summary>
public sealed class RolloutPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static Cluster Robot(string name, string ring) => new(
        new ObjectMeta(new Located<string>(name, default), ImmutableSortedDictionary<string, string>.Empty.Add("ring", ring).Add("tier", "micro"), default),
        default, null, null, null, null, [], null, EdgeOps.Fleet.Yaml.MappingNode.Empty);

    private static LabelSelector Ring(string ring) => new(ImmutableSortedDictionary<string, string>.Empty.Add("ring", ring), [], default);

    private static readonly RolloutSpec Spec = new(
        [new RolloutWave("canary", Ring("canary"), null, null, default), new RolloutWave("fleet", Ring("main"), 20, TimeSpan.FromHours(24), default)],
        100, default);

    private static readonly List<Cluster> Fleet = [.. Enumerable.Range(0, 2).Select(i => Robot($"canary-{i}", "canary")),
        .. Enumerable.Range(0, 23).Select(i => Robot($"robot-{i:00}", "main")), Robot("lab-1", "lab")];

    [Fact]
    public void Wave_IsTheFirstWhoseSelectorMatches_OthersFormTheRest()
    {
        Assert.Equal(0, RolloutPlanner.WaveOf(Spec, Fleet[0]));
        Assert.Equal(1, RolloutPlanner.WaveOf(Spec, Fleet[5]));
        Assert.Equal(RolloutPlanner.RestWave, RolloutPlanner.Place(Spec, Fleet[^1], Fleet, "rev").WaveName);
    }

    [Fact]
    public void Spreading_BatchesHoldAtMostTheWavesPercent_CoverEveryClusterOnce_AndDependOnTheRevision()
    {
        var main = Fleet.Where(c => c.Labels["ring"] == "main").ToList();
        var places = main.Select(c => RolloutPlanner.Place(Spec, c, Fleet, "rev-1")).ToList();

        Assert.All(places, p => Assert.Equal((23, 4, 6), (p.WaveSize, p.BatchSize, p.Batches)));
        Assert.All(places.GroupBy(p => p.Batch), g => Assert.True(g.Count() <= 4));
        Assert.Equal(Enumerable.Range(0, 6), places.Select(p => p.Batch).Distinct().Order());
        Assert.Equal(places, main.Select(c => RolloutPlanner.Place(Spec, c, Fleet, "rev-1")));
        Assert.NotEqual(places.Select(p => p.Batch), main.Select(c => RolloutPlanner.Place(Spec, c, Fleet, "rev-2").Batch));
    }

    [Fact]
    public void FirstWave_ProceedsAtOnce_EvenWithoutGateState()
    {
        var decision = RolloutPlanner.Decide(Spec, RolloutPlanner.Place(Spec, Fleet[0], Fleet, "rev"), _ => null, null, Now);

        Assert.Equal(RolloutVerdict.Proceed, decision.Verdict);
    }

    [Fact]
    public void LaterWave_WithoutGateState_Waits_TheSafeDefault()
    {
        var decision = RolloutPlanner.Decide(Spec, RolloutPlanner.Place(Spec, Fleet[5], Fleet, "rev"), _ => null, null, Now);

        Assert.Equal(RolloutVerdict.Wait, decision.Verdict);
        Assert.Contains("the collector has not been reached", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void LaterWave_OpensAfterThePreviousPassedAndItsPause()
    {
        var first = Fleet.Where(c => c.Labels["ring"] == "main").Select(c => RolloutPlanner.Place(Spec, c, Fleet, "rev")).First(p => p.Batch == 0);
        WaveGate? Gates(int wave) => wave == 0 ? new WaveGate(Now.AddHours(-20), 1, Passed: true, Halted: false) : null;

        var soaking = RolloutPlanner.Decide(Spec, first, Gates, null, Now);
        var after = RolloutPlanner.Decide(Spec, first, Gates, null, Now.AddHours(4));

        Assert.Equal((RolloutVerdict.Wait, Now.AddHours(4)), (soaking.Verdict, soaking.Until));
        Assert.Equal(RolloutVerdict.Proceed, after.Verdict);
    }

    [Fact]
    public void LaterBatch_WaitsForTheBatchesBeforeIt()
    {
        var third = Fleet.Where(c => c.Labels["ring"] == "main").Select(c => RolloutPlanner.Place(Spec, c, Fleet, "rev")).First(p => p.Batch == 2);
        var later = Now.AddDays(2);

        var waiting = RolloutPlanner.Decide(Spec, third, w => w == 0 ? new WaveGate(Now.AddDays(-1), 1, true, false) : new WaveGate(Now, 1, false, false), null, later);
        var going = RolloutPlanner.Decide(Spec, third, w => w == 0 ? new WaveGate(Now.AddDays(-1), 1, true, false) : new WaveGate(Now, 2, false, false), null, later);

        Assert.Equal(RolloutVerdict.Wait, waiting.Verdict);
        Assert.Contains("batch 3 of 6", waiting.Reason, StringComparison.Ordinal);
        Assert.Equal(RolloutVerdict.Proceed, going.Verdict);
    }

    [Fact]
    public void HaltedEarlierWave_HaltsEveryLaterOne()
    {
        var decision = RolloutPlanner.Decide(Spec, RolloutPlanner.Place(Spec, Fleet[5], Fleet, "rev"), w => new WaveGate(Now, 0, false, Halted: w == 0), null, Now);

        Assert.Equal(RolloutVerdict.Halted, decision.Verdict);
        Assert.Contains("halted at wave 'canary'", decision.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 23 * * *", "3h", "Europe/Madrid", "2026-11-29T23:30:00Z", true)]      // spans midnight (00:30 local)
    [InlineData("0 23 * * *", "3h", "Europe/Madrid", "2026-11-30T02:30:00Z", false)]     // 03:30 local: closed
    [InlineData("@daily", "2h", "UTC", "2026-11-29T01:59:00Z", true)]
    [InlineData("@daily", "2h", "UTC", "2026-11-29T02:00:00Z", false)]
    [InlineData("30 2 * * *", "1h", "Pacific/Auckland", "2026-09-26T14:10:00Z", true)]   // NZ skips 02:00-03:00 on 2026-09-27: opens at 03:00 NZDT
    [InlineData("30 2 * * *", "30m", "Pacific/Auckland", "2026-04-04T14:45:00Z", false)] // 02:30 happens twice on 2026-04-05; the window opened once, at the first
    public void MaintenanceWindow_GatesTheDecision(string cron, string duration, string zone, string at, bool open)
    {
        Assert.True(DurationParser.TryParse(duration, out var length));
        var window = new MaintenanceWindow(new Located<string>(cron, default), length, new Located<string>(zone, default));
        var place = RolloutPlanner.Place(Spec, Fleet[0], Fleet, "rev");

        var decision = RolloutPlanner.Decide(Spec, place, _ => null, window, DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(open ? RolloutVerdict.Proceed : RolloutVerdict.Wait, decision.Verdict);
        if (!open)
        {
            Assert.NotNull(decision.Until);
        }
    }

    [Fact]
    public void TimeGatedWave_OpensThePausesAfterTheCommit_WithoutAnyGateState()
    {
        var spec = new RolloutSpec(
            [new RolloutWave("canary", Ring("canary"), null, null, default), new RolloutWave("fleet", Ring("main"), null, TimeSpan.FromHours(6), default, RolloutGateKind.Time),
                new RolloutWave("lab", Ring("lab"), null, TimeSpan.FromHours(2), default, RolloutGateKind.Time)],
            100, default);
        var committed = Now.AddHours(-5);
        var fleetPlace = RolloutPlanner.Place(spec, Fleet[5], Fleet, "rev");
        var labPlace = RolloutPlanner.Place(spec, Fleet[^1], Fleet, "rev");

        var early = RolloutPlanner.Decide(spec, fleetPlace, _ => null, null, Now, committed);
        var open = RolloutPlanner.Decide(spec, fleetPlace, _ => null, null, Now.AddHours(1), committed);
        var lab = RolloutPlanner.Decide(spec, labPlace, _ => null, null, Now.AddHours(1), committed);

        Assert.Equal((RolloutVerdict.Wait, committed.AddHours(6)), (early.Verdict, early.Until));
        Assert.Equal(RolloutVerdict.Proceed, open.Verdict);
        Assert.Equal((RolloutVerdict.Wait, committed.AddHours(8)), (lab.Verdict, lab.Until)); // pauses add up
    }

    [Fact]
    public void HealthGatedPause_CountsFromWhenThePreviousWavePassed()
    {
        var place = RolloutPlanner.Place(Spec, Fleet.First(c => c.Labels["ring"] == "main"), Fleet, "rev") with { Batch = 0 };
        WaveGate? Gates(int wave) => wave == 0 ? new WaveGate(Now.AddDays(-3), 1, Passed: true, Halted: false, PassedAt: Now.AddHours(-1)) : null;

        var soaking = RolloutPlanner.Decide(Spec, place, Gates, null, Now);

        Assert.Equal((RolloutVerdict.Wait, Now.AddHours(23)), (soaking.Verdict, soaking.Until));
        Assert.Contains("after wave 'canary' passed", soaking.Reason, StringComparison.Ordinal);
    }
}

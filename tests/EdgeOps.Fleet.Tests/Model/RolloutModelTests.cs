using EdgeOps.Fleet.Model;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Model;

/// <summary>The rollout fields the agents act on: maxFailures (a count or a percent), a wave's gate, respectMaintenanceWindow; and their located errors.</summary>
public sealed class RolloutModelTests
{
    private static TempFleet FleetWith(string rollout)
    {
        var fleet = new TempFleet(withFleet: false);
        fleet.Write("fleet.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Fleet\nmetadata:\n  name: f\nspec:\n  defaults:\n    rollout:\n      " + rollout.Replace("\n", "\n      ", StringComparison.Ordinal) + "\n");
        fleet.Cluster("edge-1");
        return fleet;
    }

    [Fact]
    public void Load_MaxFailures_Gate_AndWindow_AreRead()
    {
        using var fleet = FleetWith("""
            maxFailures: "10%"
            respectMaintenanceWindow: true
            waves:
              - {name: canary, clusterSelector: {matchLabels: {ring: canary}}, maxFailures: 2}
              - {name: rest, gate: time, pause: 6h}
            """);

        var result = TestFleets.Load(fleet);

        Assert.Empty(result.Diagnostics);
        var spec = result.Fleet.Settings.Defaults.Rollout;
        Assert.Equal(new FailureBudget(10, true), spec.MaxFailures);
        Assert.True(spec.RespectMaintenanceWindow);
        Assert.Equal((RolloutGateKind.Health, new FailureBudget(2, false)), (spec.Waves[0].Gate, spec.Waves[0].MaxFailures));
        Assert.Equal((RolloutGateKind.Time, TimeSpan.FromHours(6)), (spec.Waves[1].Gate, spec.Waves[1].Pause));
        Assert.Equal(new FailureBudget(2, false), spec.FailuresAllowed(0));
        Assert.Equal(new FailureBudget(10, true), spec.FailuresAllowed(1));
        Assert.Equal(3, new FailureBudget(10, true).For(35));
        Assert.True(new FailureBudget(10, true).IsExceeded(4, 35));
    }

    [Fact]
    public void Load_NoMaxFailures_MeansAnyFailureHalts()
    {
        using var fleet = FleetWith("waves:\n  - {name: all}");

        var spec = TestFleets.Load(fleet).Fleet.Settings.Defaults.Rollout;

        Assert.Null(spec.MaxFailures);
        Assert.True(spec.FailuresAllowed(0).IsExceeded(1, 100));
    }

    [Theory]
    [InlineData("maxFailures: many", "fleet.yaml:8:20: error EO3050: maxFailures must be a count (e.g. 2) or a percent of the wave (e.g. \"10%\"); found 'many'")]
    [InlineData("maxFailures: \"150%\"", "fleet.yaml:8:20: error EO3050: maxFailures must be a count (e.g. 2) or a percent of the wave (e.g. \"10%\"); found '150%'")]
    [InlineData("maxFailures: -1", "fleet.yaml:8:20: error EO3050: maxFailures must be a count (e.g. 2) or a percent of the wave (e.g. \"10%\"); found '-1'")]
    [InlineData("maxFailures: [1]", "fleet.yaml:8:20: error EO3050: maxFailures must be a count (e.g. 2) or a percent of the wave (e.g. \"10%\"), not a list")]
    [InlineData("waves:\n  - {name: w, gate: sometimes}", "error EO")]
    [InlineData("waves:\n  - {name: w, gate: time}", "fleet.yaml:9:18: error EO3050: rollout wave 'w' has gate: time but no pause")]
    [InlineData("respectMaintenanceWindow: sometimes", "error EO")]
    public void Load_BadRolloutFields_AreLocatedErrors(string rollout, string expected)
    {
        using var fleet = FleetWith(rollout);

        var errors = TestFleets.Load(fleet).Diagnostics.Where(d => d.IsError).Select(d => d.ToString()).ToList();

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }
}

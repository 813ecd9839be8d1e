using EdgeOps.Fleet.Model;

namespace EdgeOps.Fleet.Tests.Model;

/// <summary>Maintenance windows against a clock, in the cluster's zone, across DST changes (they gate upgrades).</summary>
public sealed class MaintenanceWindowUpgradeTests
{
    private static MaintenanceWindow Window(string cron, TimeSpan duration, string zone) =>
        new(new Located<string>(cron, default), duration, new Located<string>(zone, default));

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Window_InsideTheDuration_IsOpenUntilItCloses()
    {
        var state = MaintenanceWindows.Evaluate(Window("0 2 * * *", TimeSpan.FromHours(2), "Europe/Madrid"), Utc("2026-11-29T01:30:00Z"));

        Assert.True(state.Open);
        Assert.Equal((Utc("2026-11-29T01:00:00Z"), Utc("2026-11-29T03:00:00Z")), (state.OpensAt!.Value, state.ClosesAt!.Value));
    }

    [Fact]
    public void Window_AfterItClosed_OpensAgainTheNextDayInTheZone()
    {
        var state = MaintenanceWindows.Evaluate(Window("0 2 * * *", TimeSpan.FromHours(2), "Europe/Madrid"), Utc("2026-11-29T03:00:00Z"));

        Assert.False(state.Open);
        Assert.Equal(Utc("2026-11-30T01:00:00Z"), state.OpensAt);
    }

    [Fact]
    public void Window_InAnHourTheClocksSkip_OpensWhenTheDayReachesIt()
    {
        // Madrid goes from 02:00 CET to 03:00 CEST on 2026-03-29: 02:30 does not exist that night.
        var state = MaintenanceWindows.Evaluate(Window("30 2 * * *", TimeSpan.FromHours(1), "Europe/Madrid"), Utc("2026-03-29T01:10:00Z"));

        Assert.True(state.Open);
        Assert.Equal(Utc("2026-03-29T01:00:00Z"), state.OpensAt);
    }

    [Fact]
    public void Window_InAnHourTheClocksRepeat_OpensOnce()
    {
        // Madrid goes from 03:00 CEST back to 02:00 CET on 2026-10-25: 02:30 happens twice; the window opens at the first.
        var window = Window("30 2 * * *", TimeSpan.FromMinutes(45), "Europe/Madrid");

        Assert.True(MaintenanceWindows.Evaluate(window, Utc("2026-10-25T00:40:00Z")).Open);
        var second = MaintenanceWindows.Evaluate(window, Utc("2026-10-25T01:40:00Z"));
        Assert.False(second.Open);
        Assert.Equal(Utc("2026-10-26T01:30:00Z"), second.OpensAt);
    }
}

using EdgeOps.Policy.Sandbox;
using Xunit;

namespace EdgeOps.Policy.Tests.Sandbox;

/// <summary>
/// The policy clock ticks only while a call is armed (an idle agent must not wake every few
/// milliseconds), and a deadline armed on a clock that was asleep is counted from the time, not from
/// the clock's last reading.
/// </summary>
public sealed class CallDeadlineTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void Clock_NotArmed_StandsStill()
    {
        var clock = CallDeadline.Clock.CreateForTests();
        var first = clock.Now;
        Thread.Sleep(CallDeadline.Clock.Resolution * 12);
        Assert.Equal(first, clock.Now);
    }

    [Fact]
    public void Clock_Armed_TicksAndStopsWhenDisarmed()
    {
        var clock = CallDeadline.Clock.CreateForTests();
        Thread.Sleep(CallDeadline.Clock.Resolution * 4);
        var before = Environment.TickCount64;
        clock.Arm();

        // Arming a sleeping clock sets it to the time at once.
        Assert.True(clock.Now >= before, $"armed clock reads {clock.Now}, the time was {before}");
        var armedAt = clock.Now;
        Assert.True(SpinWait.SpinUntil(() => clock.Now > armedAt, Patience), "the armed clock never advanced");

        clock.Disarm();
        Assert.Equal(0, clock.Armed);
        Assert.True(SpinWait.SpinUntil(() => StandsStill(clock), Patience), "the clock kept ticking with nothing armed");
    }

    [Fact]
    public void Clock_ArmedTwiceDisarmedOnce_KeepsTicking()
    {
        var clock = CallDeadline.Clock.CreateForTests();
        clock.Arm();
        clock.Arm();
        clock.Disarm();
        var now = clock.Now;
        Assert.True(SpinWait.SpinUntil(() => clock.Now > now, Patience), "one armed deadline left, but the clock stopped");
        clock.Disarm();
        Assert.True(SpinWait.SpinUntil(() => StandsStill(clock), Patience));
    }

    [Fact]
    public void Deadline_BeginAgainAndEndTwice_ArmsTheClockOnce()
    {
        var clock = CallDeadline.Clock.CreateForTests();
        var deadline = new CallDeadline(clock);
        deadline.Begin(TimeSpan.FromSeconds(5), CancellationToken.None);
        deadline.Begin(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(1, clock.Armed);
        deadline.End();
        deadline.End();
        Assert.Equal(0, clock.Armed);
    }

    [Fact]
    public void Deadline_OnASleepingClock_FiresAfterItsBudgetNotBefore()
    {
        var clock = CallDeadline.Clock.CreateForTests();
        Thread.Sleep(200); // the clock's last reading is now 200 ms old
        var deadline = new CallDeadline(clock);
        deadline.Begin(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        deadline.Check(); // counted from a stale reading, the budget would already be spent

        Assert.True(SpinWait.SpinUntil(
            () =>
            {
                try
                {
                    deadline.Check();
                    return false;
                }
                catch (TimeoutException)
                {
                    return true;
                }
            },
            Patience));
        deadline.End();
        deadline.Check(); // disarmed: nothing is bounded
    }

    /// <summary>Two readings a good many ticks apart agree.</summary>
    private static bool StandsStill(CallDeadline.Clock clock)
    {
        var now = clock.Now;
        Thread.Sleep(CallDeadline.Clock.Resolution * 10);
        return clock.Now == now;
    }
}

using System.Diagnostics;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Reconciler.Tests.Upgrades;

/// <summary>The host commands an agent runs (slot commands, reboot commands, upgrade health checks) can never hold it.</summary>
public sealed class HostCommandTests
{
    [Fact]
    public async Task ACommandThatLeavesABackgroundProcessHoldingItsOutput_IsDoneWhenItExits()
    {
        // As a reboot command does: "(sleep 5; reboot) &", here with a child that outlives the test's patience.
        var clock = Stopwatch.StartNew();

        var result = await HostCommand.RunAsync(["sh", "-c", "sleep 20 & echo scheduled"], TimeSpan.FromSeconds(60), CancellationToken.None);

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal("scheduled\n", result.Stdout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task ACommandThatPrintsWithoutEnd_IsKilled_KeepingABoundedPart()
    {
        var result = await HostCommand.RunAsync(["sh", "-c", "yes progress"], TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.True(result.TooLong);
        Assert.False(result.TimedOut);
        Assert.Equal(HostCommand.MaxOutputChars, result.Stdout.Length);
        Assert.Equal("printed more than 1024 KiB", result.Reason);
    }

    [Fact]
    public async Task ACommandPastItsDeadline_IsKilled_WithWhatItPrinted()
    {
        var result = await HostCommand.RunAsync(["sh", "-c", "echo working; exec sleep 30"], TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.True(result.TimedOut);
        Assert.Equal("timed out", result.Reason);
        Assert.Equal("working\n", result.Stdout);
    }

    [Fact]
    public async Task OutputAndExitCode_AreKept()
    {
        var result = await HostCommand.RunAsync(["sh", "-c", "echo out; echo why >&2; exit 3"], TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal((3, "out\n", "why\n"), (result.ExitCode, result.Stdout, result.Stderr));
        Assert.Equal("exit code 3: why", result.Reason);
    }

    [Fact]
    public async Task AMissingProgram_Is127_InWords()
    {
        var result = await HostCommand.RunAsync(["/nonexistent/slot-tool", "status"], TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal(127, result.ExitCode);
        Assert.StartsWith("cannot run /nonexistent/slot-tool", result.Stderr, StringComparison.Ordinal);
    }
}

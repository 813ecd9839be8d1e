using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Reconciler.Upgrades;
using Xunit.Abstractions;

namespace EdgeOps.Reconciler.Tests.Upgrades;

/// <summary>
/// The real edgeops process killed with SIGKILL at every step of an upgrade — mid-download, after verify,
/// mid-install, after activate, around the reboot request, during the health gate, around the commit — with
/// or without the power going too (the device then boots whatever its bootloader picks). After restarts the
/// device must run the old version or the new one, a written slot is always in the journal, the plan ends
/// committed, and its outcome is announced exactly once.
/// </summary>
[Collection("kube")]
public sealed class UpgradeCrashTests(KubeServerFixture fixture, ITestOutputHelper output) : IDisposable
{
    private const string Old = "2026.10.1";
    private const string New = "2026.11.2";
    private readonly UpgradeScenario _s = new();

    public void Dispose() => _s.Dispose();

    public static TheoryData<string, int, bool> CrashPoints() => new()
    {
        { "upgrade:started", 0, false },
        { "upgrade:download-chunk", 2, false },
        { "upgrade:downloaded", 0, false },
        { "upgrade:verified", 0, false },
        { "upgrade:installing", 0, true },
        { "upgrade:install-running", 0, false },
        { "upgrade:install-running", 0, true },
        { "upgrade:installed", 0, true },
        { "upgrade:activated", 0, false },
        { "upgrade:activated", 0, true },
        { "upgrade:rebooting", 0, false },
        { "upgrade:reboot-requested", 0, false },
        { "upgrade:trial", 0, false },
        { "upgrade:trial", 0, true },
        { "upgrade:healthy", 0, false },
        { "upgrade:marked-good", 0, false },
        { "upgrade:committed", 0, false },
        { "upgrade:reported", 0, false },
    };

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public async Task UpgradeKilledAt_EndsCommittedOnTheNewSlot_ReportedOnce(string point, int skip, bool powerCut)
    {
        _s.Workload("app");
        _s.Workload("vision", requires: ">=2026.11");
        _s.Plan("robot-os", New, image: SimulatedDevice.Image(New, 1024 * 1024), extra: "\n  download:\n    maxKbps: 40000");
        var revision = _s.Commit("os and the workload that needs it");
        await File.WriteAllTextAsync(_s.HealthyFlag, "ok");
        _s.Device.Slow("install", 1);
        var args = new[] { "--slot-backend", "command", "--slot-command", _s.Device.Executable, "--upgrade-poll-interval", "100ms" };

        // Passes with the crash armed until the agent dies at the point (some points come after the reboot).
        ReconcilerProcess.Run? crashed = null;
        for (var i = 0; i < 6 && crashed?.Killed != true; i++)
        {
            RebootIfAsked();
            crashed = await ReconcilerProcess.ReconcileAsync(fixture.Server, _s.Repo.Root, "main", _s.State, "edgeops-" + _s.Suffix, point, skip, args);
            output.WriteLine($"armed pass {i}: exit {crashed.ExitCode}: {crashed.Output.Trim()}");
            AssertConsistent();
        }

        Assert.True(crashed!.Killed, $"the agent never reached {point}: {crashed.Output}{crashed.Error}");
        await Task.Delay(TimeSpan.FromSeconds(1.2)); // an install the agent left running finishes by itself
        if (powerCut)
        {
            _s.Device.Boot();
        }

        AssertConsistent();
        ReconcilerProcess.Run? last = null;
        for (var i = 0; i < 12 && (_s.Journal?.Phase != UpgradePhase.Committed || last?.Output.StartsWith("applied", StringComparison.Ordinal) != true); i++)
        {
            RebootIfAsked();
            last = await ReconcilerProcess.ReconcileAsync(fixture.Server, _s.Repo.Root, "main", _s.State, "edgeops-" + _s.Suffix, extra: args);
            output.WriteLine($"pass {i}: exit {last.ExitCode}: {last.Output.Trim()} {last.Error.Trim()}");
            AssertConsistent();
        }

        using var api = new KubeApi(fixture.Server.Configuration);
        Assert.Equal((UpgradePhase.Committed, true), (_s.Journal!.Phase, _s.Journal.Reported));
        Assert.Equal((New, "good"), (_s.Device.RunningVersion, _s.Device.StateOf(_s.Device.Booted)));
        Assert.True(await _s.ExistsAsync(api, "vision"), "the workload that needs the new OS was not applied after the commit");
        Assert.Contains(revision, (await ReconcilerProcess.ReconcileAsync(fixture.Server, _s.Repo.Root, "main", _s.State, "edgeops-" + _s.Suffix, extra: args)).Output + File.ReadAllText(Path.Combine(_s.State, "state.json")), StringComparison.Ordinal);
        Assert.Equal("UpgradeCommitted", Assert.Single(await _s.UpgradeEventsAsync(api)).Reason);
        Assert.True(_s.Device.Calls.Count(c => c.StartsWith("install", StringComparison.Ordinal)) <= 2, string.Join('\n', _s.Device.Calls));
    }

    private void RebootIfAsked()
    {
        if (_s.Device.RebootRequests > 0)
        {
            _s.Device.Boot();
        }
    }

    /// <summary>At every moment: the device runs the old or the new version, and a slot holding the new one is in the journal.</summary>
    private void AssertConsistent()
    {
        Assert.Contains(_s.Device.RunningVersion, new[] { Old, New });
        var written = new[] { "A", "B" }.Any(slot => _s.Device.VersionOf(slot) == New);
        if (written)
        {
            Assert.True(_s.Journal is { Phase: not (UpgradePhase.Downloading or UpgradePhase.Verified) }, $"slot written but the journal says {_s.Journal?.Phase.ToString() ?? "nothing"}");
        }
    }
}

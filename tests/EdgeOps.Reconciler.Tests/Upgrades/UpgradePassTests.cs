using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Reconciler.Tests.Upgrades;

/// <summary>
/// UpgradePlans carried out pass by pass, in-process, against the test API server and a simulated A/B device
/// behind the <c>command</c> slot backend: select, fetch, verify, install, activate, reboot, trial, commit or fall back.
/// </summary>
[Collection("kube")]
public sealed class UpgradePassTests(KubeServerFixture fixture) : IDisposable
{
    private readonly UpgradeScenario _s = new();

    public void Dispose() => _s.Dispose();

    private SimulatedDevice Device => _s.Device;

    private static Task<PassResult> Pass(EdgeOps.Reconciler.Pipeline.Reconciler reconciler) => reconciler.RunOnceAsync(CancellationToken.None);

    [Fact]
    public async Task Upgrade_HealthyTrial_CommitsThenAppliesTheWorkloadThatNeedsTheNewOs()
    {
        _s.Workload("app");
        var first = _s.Commit("apps");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);
        Assert.Equal(PassOutcome.Applied, (await Pass(reconciler)).Outcome);
        _s.Plan("robot-os", "2026.11.2");
        _s.Workload("vision", requires: ">=2026.11");
        var second = _s.Commit("os 2026.11.2 and the vision model that needs it");

        var installing = await Pass(reconciler);

        Assert.Equal(PassOutcome.Waiting, installing.Outcome);
        Assert.Contains("installed 2026.11.2 into B; rebooting", installing.Message, StringComparison.Ordinal);
        Assert.Equal(("2026.11.2", "B", 1), (Device.VersionOf("B"), Device.Primary, Device.RebootRequests));
        Assert.False(await _s.ExistsAsync(api, "vision"));
        Assert.Equal(first, installing.AppliedRevision);
        Assert.Equal("Rebooting", installing.Report.Upgrade!.Phase);

        // The host has not rebooted yet: the agent waits without asking again.
        var notYet = await Pass(reconciler);
        Assert.Equal(PassOutcome.Waiting, notYet.Outcome);
        Assert.Contains("waiting for the host to reboot into B", notYet.Message, StringComparison.Ordinal);
        Assert.Equal(1, Device.RebootRequests);

        Assert.Equal("B", Device.Boot());
        reconciler = _s.Reconciler(api);
        var trial = await Pass(reconciler);
        Assert.Equal(PassOutcome.Waiting, trial.Outcome);
        Assert.Contains("on trial in B: waiting for health check 'vision-ready'", trial.Message, StringComparison.Ordinal);
        Assert.Equal("Trial", trial.Report.Upgrade!.Phase);

        await File.WriteAllTextAsync(_s.HealthyFlag, "ok");
        var committed = await Pass(reconciler);

        Assert.Equal(PassOutcome.Applied, committed.Outcome);
        Assert.Equal(second, committed.AppliedRevision);
        Assert.True(await _s.ExistsAsync(api, "vision"));
        Assert.Equal("good", Device.StateOf("B"));
        Assert.Equal(UpgradePhase.Committed, _s.Journal!.Phase);
        Assert.True(_s.Journal.Reported);
        var status = StatusReport.Read(Path.Combine(_s.State, "status.json"))!.Upgrade!;
        Assert.Equal(("Committed", "2026.10.1", "2026.11.2", "2026.11.2", "B"), (status.Phase, status.FromVersion, status.ToVersion, status.RunningVersion, status.BootedSlot));
        Assert.Contains("Trial", status.PhaseTimes!.Keys);

        var idle = await Pass(reconciler);
        Assert.Equal(PassOutcome.Unchanged, idle.Outcome);
        Assert.Single(Device.Calls, c => c.StartsWith("install", StringComparison.Ordinal));
        var events = await _s.UpgradeEventsAsync(api);
        Assert.Equal("UpgradeCommitted", Assert.Single(events).Reason);
        Assert.Contains("2026.10.1 → 2026.11.2 in B", events[0].Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_s.State, "upgrades")));
    }

    [Fact]
    public async Task Upgrade_HealthNeverPassing_FallsBackAndTheRevisionStaysUnapplied()
    {
        _s.Workload("app");
        var first = _s.Commit("apps");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);
        await Pass(reconciler);
        _s.Plan("robot-os", "2026.11.2", timeout: "1s");
        _s.Workload("vision", requires: ">=2026.11");
        var second = _s.Commit("os and vision");
        await Pass(reconciler);
        Device.Boot();

        var waiting = await Pass(reconciler);
        Assert.Equal(PassOutcome.Waiting, waiting.Outcome);
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        var fallingBack = await Pass(reconciler);

        Assert.Equal(PassOutcome.Waiting, fallingBack.Outcome);
        Assert.Contains("falling back to A: health check 'vision-ready' did not pass within 1 s of the trial boot", fallingBack.Message, StringComparison.Ordinal);
        Assert.Equal(("bad", "A", 1), (Device.StateOf("B"), Device.Primary, Device.RebootRequests));

        Assert.Equal("A", Device.Boot());
        var failed = await Pass(reconciler);

        Assert.Equal(PassOutcome.Failed, failed.Outcome);
        Assert.Contains("workload 'vision' requires os >=2026.11, but the device runs 2026.10.1; upgrade 'robot-os' to 2026.11.2 failed: health check 'vision-ready'", failed.Message, StringComparison.Ordinal);
        Assert.Equal(first, failed.AppliedRevision);
        Assert.False(await _s.ExistsAsync(api, "vision"));
        Assert.Equal("Failed", failed.Report.Upgrade!.Phase);

        // Not retried: the failed artifact stays failed until the repo names another.
        var later = await Pass(reconciler);
        Assert.Equal(PassOutcome.Unchanged, later.Outcome);
        Assert.Contains("failed before", later.Message, StringComparison.Ordinal);
        Assert.Single(Device.Calls, c => c.StartsWith("install", StringComparison.Ordinal));
        Assert.Equal("UpgradeFailed", Assert.Single(await _s.UpgradeEventsAsync(api)).Reason);
        Assert.Equal(second, failed.AttemptedRevision);
    }

    [Fact]
    public async Task Upgrade_BundleSignedByAnotherIdentity_IsRefusedBeforeAnythingIsInstalled()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2", signer: UpgradeScenario.Stranger);
        _s.Commit("apps and a plan signed by a stranger");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);
        Assert.Equal(PassOutcome.Applied, (await Pass(reconciler)).Outcome);

        var refused = await Pass(reconciler);

        Assert.Equal(PassOutcome.Failed, refused.Outcome);
        Assert.Contains("failed at verify: EO7005", refused.Message, StringComparison.Ordinal);
        Assert.Contains("expected " + UpgradeScenario.Release, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Device.Calls, c => c.StartsWith("install", StringComparison.Ordinal));
        Assert.Equal(("A", "A"), (Device.Booted, Device.Primary));
        Assert.Empty(Directory.GetFiles(Path.Combine(_s.State, "upgrades")));
        Assert.Equal(PassOutcome.Unchanged, (await Pass(reconciler)).Outcome);
    }

    [Fact]
    public async Task Upgrade_UnsignedArtifact_IsRefused()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2", signer: null);
        _s.Commit("unsigned plan");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);
        await Pass(reconciler);

        var refused = await Pass(reconciler);

        Assert.Contains("failed at verify: EO7003", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Device.Calls, c => c.StartsWith("install", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upgrade_ArtifactNotFound_FailsThePlanAndLeavesTheAppsAlone()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2");
        _s.Commit("plan");
        _s.Server.Misbehave(new ServeMode { Status = 404 });
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);
        Assert.Equal(PassOutcome.Applied, (await Pass(reconciler)).Outcome);

        var failed = await Pass(reconciler);

        Assert.Equal(PassOutcome.Failed, failed.Outcome);
        Assert.Contains("failed at download:", failed.Message, StringComparison.Ordinal);
        Assert.Contains("answered 404", failed.Message, StringComparison.Ordinal);
        Assert.True(await _s.ExistsAsync(api, "app"));
        Assert.Equal(UpgradePhase.Failed, _s.Journal!.Phase);
    }

    [Fact]
    public async Task Upgrade_InstallRefusedByTheDevice_FailsWithTheBackendsReason()
    {
        _s.Workload("app", requires: ">=2026.11");
        _s.Plan("robot-os", "2026.11.2");
        _s.Commit("plan");
        Device.Fail("install", "compatible mismatch: bundle is for pomona-arm-v7, device is pomona-arm64");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);

        var failed = await Pass(reconciler);

        Assert.Equal(PassOutcome.Failed, failed.Outcome);
        Assert.Contains("install: slotctl install failed (exit code 1: compatible mismatch", failed.Message, StringComparison.Ordinal);
        Assert.Null(failed.AppliedRevision);
        Assert.Equal(("A", "A"), (Device.Booted, Device.Primary));
    }

    [Fact]
    public async Task Upgrade_WithoutASlotBackend_IsReportedBlockedAndTheAppsApply()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2");
        _s.Commit("plan");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = new EdgeOps.Reconciler.Pipeline.Reconciler(_s.Options(backend: null), api);

        var applied = await Pass(reconciler);
        var again = await Pass(reconciler);

        Assert.Equal(PassOutcome.Applied, applied.Outcome);
        Assert.Equal(PassOutcome.Unchanged, again.Outcome);
        Assert.Equal("Blocked", again.Report.Upgrade!.Phase);
        Assert.Contains("needs host access", again.Report.Upgrade.Reason, StringComparison.Ordinal);
        Assert.Empty(Device.Calls);
    }

    [Fact]
    public async Task Upgrade_WorkloadNeedingAnOsNoPlanProvides_IsNotApplied()
    {
        _s.Workload("app");
        var first = _s.Commit("apps");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);
        await Pass(reconciler);
        _s.Workload("vision", requires: ">=2027.1");
        _s.Commit("vision needs an OS nobody ships");

        var failed = await Pass(reconciler);

        Assert.Equal(PassOutcome.Failed, failed.Outcome);
        Assert.Contains("workload 'vision' requires os >=2027.1, but the device runs 2026.10.1; no upgrade plan placed on this cluster provides it", failed.Message, StringComparison.Ordinal);
        Assert.Equal(first, failed.AppliedRevision);
        Assert.False(await _s.ExistsAsync(api, "vision"));
    }

    [Fact]
    public async Task Upgrade_SecondPlanWhileTheFirstIsOnTrial_WaitsForTheCommit()
    {
        _s.Workload("app", requires: ">=2026.11");
        _s.Plan("robot-os", "2026.11.2");
        _s.Commit("first plan");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);
        await Pass(reconciler);
        Device.Boot();
        Assert.Contains("on trial", (await Pass(reconciler)).Message, StringComparison.Ordinal);
        File.Delete(Path.Combine(_s.Repo.Root, "upgrades", "robot-os.yaml"));
        _s.Plan("robot-os-next", "2026.12.1");
        _s.Commit("second plan while the first is on trial");

        var stillOnTrial = await Pass(reconciler);

        Assert.Equal(PassOutcome.Waiting, stillOnTrial.Outcome);
        Assert.Contains("upgrade 'robot-os' to 2026.11.2 on trial in B", stillOnTrial.Message, StringComparison.Ordinal);
        Assert.Single(Device.Calls, c => c.StartsWith("install", StringComparison.Ordinal));

        await File.WriteAllTextAsync(_s.HealthyFlag, "ok");
        var committed = await Pass(reconciler);
        Assert.Equal("good", Device.StateOf("B"));

        // The revision's workloads go first (none needs 2026.12), then the second plan starts on the next pass.
        Assert.Equal(PassOutcome.Applied, committed.Outcome);
        Assert.Equal(UpgradePhase.Committed, _s.Journal!.Phase);
        var next = await Pass(reconciler);
        Assert.Equal(PassOutcome.Waiting, next.Outcome);
        Assert.Contains("installed 2026.12.1 into A", next.Message, StringComparison.Ordinal);
        Assert.Equal("robot-os-next", _s.Journal!.Plan);
    }

    [Fact]
    public async Task Upgrade_NewSlotNeverBoots_TheBootloadersFallbackIsReportedAsFailure()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2");
        _s.Commit("plan");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);
        await Pass(reconciler);
        await Pass(reconciler);
        Assert.Equal(UpgradePhase.Rebooting, _s.Journal!.Phase);

        // The new slot crashes at every boot attempt; the bootloader gives up on it and boots A.
        await File.WriteAllTextAsync(Path.Combine(Device.Root, "state.B"), "bad\n");
        Assert.Equal("A", Device.Boot());
        var failed = await Pass(reconciler);

        Assert.Equal(UpgradePhase.Failed, _s.Journal!.Phase);
        Assert.Contains("the device did not boot B: the bootloader returned to A", _s.Journal.Reason, StringComparison.Ordinal);
        Assert.Equal("Failed", failed.Report.Upgrade!.Phase);
        Assert.Equal("UpgradeFailed", Assert.Single(await _s.UpgradeEventsAsync(api)).Reason);
    }

    [Fact]
    public async Task Upgrade_OutsideTheMaintenanceWindow_IsHeldAndStartsOnceItOpens()
    {
        var closed = (DateTime.UtcNow.Hour + 12) % 24;
        _s.Repo.Cluster("edge-1", "tier: far\nring: canary", $"maintenanceWindow: {{schedule: \"0 {closed} * * *\", duration: 1h, timeZone: UTC}}");
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2");
        _s.Commit("plan, window closed");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);
        await Pass(reconciler);

        var held = await Pass(reconciler);

        Assert.Equal(PassOutcome.Unchanged, held.Outcome);
        Assert.Equal("Held", held.Report.Upgrade!.Phase);
        Assert.Contains($"outside the maintenance window '0 {closed} * * *' (UTC)", held.Report.Upgrade.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Device.Calls, c => !c.StartsWith("status", StringComparison.Ordinal));

        _s.Repo.Cluster("edge-1", "tier: far\nring: canary", "maintenanceWindow: {schedule: \"* * * * *\", duration: 5m, timeZone: UTC}");
        _s.Commit("window open");
        await Pass(reconciler);
        var started = await Pass(reconciler);

        Assert.Contains("installed 2026.11.2 into B", started.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upgrade_RunningVersionAlreadyCurrent_DoesNothing()
    {
        _s.Workload("app", requires: ">=2026.10");
        _s.Plan("robot-os", "2026.10.1");
        _s.Commit("plan for the version that runs");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = _s.Reconciler(api);

        Assert.Equal(PassOutcome.Applied, (await Pass(reconciler)).Outcome);
        Assert.Equal(PassOutcome.Unchanged, (await Pass(reconciler)).Outcome);
        Assert.DoesNotContain(Device.Calls, c => !c.StartsWith("status", StringComparison.Ordinal));
        Assert.Equal(0, _s.Server.Requests);
    }
}

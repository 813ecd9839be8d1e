using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Reconciler.Tests.Upgrades;

/// <summary>
/// UpgradePlans against a real RAUC service over D-Bus (<see cref="RaucTestbed"/>): RAUC verifies and installs the
/// bundle, the agent activates, reboots, runs the trial and marks the slot good or bad. These tests never skip: a
/// machine that cannot run RAUC fails them, naming what is missing.
/// </summary>
[Collection("kube")]
public sealed class RaucUpgradeTests(KubeServerFixture fixture) : IDisposable
{
    private readonly UpgradeScenario _s = new();
    private readonly RaucTestbed _rauc = new();

    public void Dispose()
    {
        _rauc.Dispose();
        _s.Dispose();
    }

    private EdgeOps.Reconciler.Pipeline.Reconciler Agent(KubeApi api) => _s.Reconciler(api, new RaucSlotBackend(_rauc.Address, _rauc.RebootCommand));

    private JsonObject Slot(string name) =>
        JsonNode.Parse(_rauc.Status())!["slots"]!.AsArray().Select(s => s!.AsObject()).Single(s => s.ContainsKey(name))[name]!.AsObject();

    private static Task<PassResult> Pass(EdgeOps.Reconciler.Pipeline.Reconciler reconciler) => reconciler.RunOnceAsync(CancellationToken.None);

    [Fact]
    public async Task RaucUpgrade_HealthyTrial_IsInstalledByRaucAndMarkedGood()
    {
        _s.Workload("app", requires: ">=2026.11");
        _s.Plan("robot-os", "2026.11.2", backend: "rauc", image: _rauc.Bundle("2026.11.2"));
        var revision = _s.Commit("os 2026.11.2");
        using var api = new KubeApi(fixture.Server.Configuration);

        var installed = await Pass(Agent(api));

        Assert.Equal(PassOutcome.Waiting, installed.Outcome);
        Assert.Contains("installed 2026.11.2 into rootfs.1", installed.Message, StringComparison.Ordinal);
        Assert.Equal(("B", 1), (_rauc.Primary, _rauc.RebootRequests));
        Assert.Equal("2026.11.2", Slot("rootfs.1")["slot_status"]!["bundle"]!["version"]!.GetValue<string>());

        Assert.Equal("B", _rauc.Reboot());
        await File.WriteAllTextAsync(_s.HealthyFlag, "ok");
        var committed = await Pass(Agent(api));

        Assert.Equal(PassOutcome.Applied, committed.Outcome);
        Assert.Equal(revision, committed.AppliedRevision);
        Assert.Equal(UpgradePhase.Committed, _s.Journal!.Phase);
        Assert.Equal(("rootfs.1", "2026.11.2"), (committed.Report.Upgrade!.TargetSlot, committed.Report.Upgrade.RunningVersion));
        Assert.Equal("booted", Slot("rootfs.1")["state"]!.GetValue<string>());
        Assert.Equal("good", Slot("rootfs.1")["boot_status"]!.GetValue<string>());
    }

    [Fact]
    public async Task RaucUpgrade_BundleForAnotherCompatible_IsRefusedByRaucAndNothingChanges()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2", backend: "rauc", image: _rauc.Bundle("2026.11.2", compatible: "pomona-arm-v7"));
        _s.Commit("a bundle for another board");
        using var api = new KubeApi(fixture.Server.Configuration);
        await Pass(Agent(api));

        var refused = await Pass(Agent(api));

        Assert.Equal(PassOutcome.Failed, refused.Outcome);
        Assert.Contains("install: RAUC refused the bundle", refused.Message, StringComparison.Ordinal);
        Assert.Contains("ompatible", refused.Message, StringComparison.Ordinal);
        Assert.Equal(("A", 0), (_rauc.Primary, _rauc.RebootRequests));
        Assert.Equal(UpgradePhase.Failed, _s.Journal!.Phase);
    }

    [Fact]
    public async Task RaucUpgrade_BundleSignedByAnUntrustedCertificate_IsRefusedByRauc()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2", backend: "rauc", image: _rauc.Bundle("2026.11.2", signer: "stranger"));
        _s.Commit("a bundle signed outside the device's keyring");
        using var api = new KubeApi(fixture.Server.Configuration);
        await Pass(Agent(api));

        var refused = await Pass(Agent(api));

        Assert.Equal(PassOutcome.Failed, refused.Outcome);
        Assert.Contains("install: RAUC refused the bundle", refused.Message, StringComparison.Ordinal);
        Assert.Contains("signature", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(("A", 0), (_rauc.Primary, _rauc.RebootRequests));
    }

    [Fact]
    public async Task RaucUpgrade_HealthNeverPassing_MarksTheSlotBadAndBootsTheOldOne()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2", backend: "rauc", image: _rauc.Bundle("2026.11.2"), timeout: "1s");
        _s.Commit("os 2026.11.2");
        using var api = new KubeApi(fixture.Server.Configuration);
        await Pass(Agent(api));
        await Pass(Agent(api));
        _rauc.Reboot();
        await Pass(Agent(api));
        await Task.Delay(TimeSpan.FromSeconds(1.1));

        var fallingBack = await Pass(Agent(api));

        Assert.Contains("falling back to rootfs.0", fallingBack.Message, StringComparison.Ordinal);
        Assert.Equal(("A", "bad"), (_rauc.Primary, _rauc.SlotState("B")));
        Assert.Equal("A", _rauc.Reboot());
        await Pass(Agent(api));
        Assert.Equal(UpgradePhase.Failed, _s.Journal!.Phase);
        Assert.Contains("health check 'vision-ready' did not pass within 1 s", _s.Journal.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RaucUpgrade_PowerCutDuringTheTrial_EndsOnTheOldOrTheNewSlotAndIsReportedOnce()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2", backend: "rauc", image: _rauc.Bundle("2026.11.2"));
        _s.Commit("os 2026.11.2");
        using var api = new KubeApi(fixture.Server.Configuration);
        await Pass(Agent(api));
        await Pass(Agent(api));
        _rauc.Reboot();
        Assert.Equal(PassOutcome.Waiting, (await Pass(Agent(api))).Outcome);

        // Power is cut on trial; the bootloader's attempts for B are used up, so it boots A.
        _rauc.PowerCut(bootInto: "A");
        var after = await Pass(Agent(api));

        Assert.Equal(UpgradePhase.Failed, _s.Journal!.Phase);
        Assert.Contains("came back on rootfs.0 during the trial", _s.Journal.Reason, StringComparison.Ordinal);
        Assert.Equal("rootfs.0", after.Report.Upgrade!.BootedSlot);
        await Pass(Agent(api));
        Assert.Equal("UpgradeFailed", Assert.Single(await _s.UpgradeEventsAsync(api)).Reason);
    }
}

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

    private EdgeOps.Reconciler.Pipeline.Reconciler InProcess(KubeApi api) => _s.Reconciler(api, new RaucSlotBackend(_rauc.Address, _rauc.RebootCommand));

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

        var installed = await Pass(InProcess(api));

        Assert.Equal(PassOutcome.Waiting, installed.Outcome);
        Assert.Contains("installed 2026.11.2 into rootfs.1", installed.Message, StringComparison.Ordinal);
        Assert.Equal(("B", 1), (_rauc.Primary, _rauc.RebootRequests));
        Assert.Equal("2026.11.2", Slot("rootfs.1")["slot_status"]!["bundle"]!["version"]!.GetValue<string>());

        Assert.Equal("B", _rauc.Reboot());
        await File.WriteAllTextAsync(_s.HealthyFlag, "ok");
        var committed = await Pass(InProcess(api));

        Assert.Equal(PassOutcome.Applied, committed.Outcome);
        Assert.Equal(revision, committed.AppliedRevision);
        Assert.Equal(UpgradePhase.Committed, _s.Journal!.Phase);
        Assert.Equal(("rootfs.1", "2026.11.2"), (committed.Report.Upgrade!.TargetSlot, committed.Report.Upgrade.RunningVersion));
        Assert.Equal("booted", Slot("rootfs.1")["state"]!.GetValue<string>());
        Assert.Equal("good", Slot("rootfs.1")["boot_status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(Agent.Jit)]
    [InlineData(Agent.Aot)]
    public async Task RaucUpgrade_TheShippedAgentProcess_InstallsRebootsAndCommits(Agent agent)
    {
        _s.Workload("app", requires: ">=2026.11");
        _s.Plan("robot-os", "2026.11.2", backend: "rauc", image: _rauc.Bundle("2026.11.2"));
        _s.Commit("os 2026.11.2");
        await File.WriteAllTextAsync(_s.HealthyFlag, "ok");
        string[] args = ["--slot-backend", "rauc", "--dbus-address", _rauc.Address, "--reboot-command", _rauc.RebootCommand[0]];

        var installed = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _s.Repo.Root, "main", _s.State, "edgeops-" + _s.Suffix, extra: args);
        Assert.True(installed.ExitCode == 0, installed.Output + installed.Error);
        Assert.Contains("installed 2026.11.2 into rootfs.1", installed.Output, StringComparison.Ordinal);
        Assert.Equal(1, _rauc.RebootRequests);
        _rauc.Reboot();
        var committed = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _s.Repo.Root, "main", _s.State, "edgeops-" + _s.Suffix, extra: args);

        Assert.True(committed.ExitCode == 0, committed.Output + committed.Error);
        Assert.StartsWith("applied:", committed.Output, StringComparison.Ordinal);
        Assert.Equal(UpgradePhase.Committed, _s.Journal!.Phase);
        Assert.Equal("good", Slot("rootfs.1")["boot_status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("upgrade:installing")]
    [InlineData("upgrade:install-running")]
    [InlineData("upgrade:installed")]
    [InlineData("upgrade:activated")]
    [InlineData("upgrade:reboot-requested")]
    [InlineData("upgrade:trial")]
    [InlineData("upgrade:marked-good")]
    public async Task RaucUpgrade_PowerCutWithTheAgentAt_EndsOnTheOldOrNewSlotThenCommits(string point)
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2", backend: "rauc", image: _rauc.Bundle("2026.11.2"));
        _s.Commit("os 2026.11.2");
        await File.WriteAllTextAsync(_s.HealthyFlag, "ok");
        string[] args = ["--slot-backend", "rauc", "--dbus-address", _rauc.Address, "--reboot-command", _rauc.RebootCommand[0], "--upgrade-poll-interval", "100ms"];
        var ns = "edgeops-" + _s.Suffix;

        ReconcilerProcess.Run? crashed = null;
        for (var i = 0; i < 5 && crashed?.Killed != true; i++)
        {
            if (_rauc.RebootRequests > 0)
            {
                _rauc.Reboot();
            }

            crashed = await ReconcilerProcess.ReconcileAsync(fixture.Server, _s.Repo.Root, "main", _s.State, ns, point, 0, args);
        }

        Assert.True(crashed!.Killed, $"never reached {point}: {crashed.Output}{crashed.Error}");

        // The power goes: RAUC dies wherever it was, and the bootloader picks the slot.
        var booted = _rauc.PowerCut();
        Assert.Contains(booted, new[] { "A", "B" });
        for (var i = 0; i < 8 && _s.Journal?.Phase != UpgradePhase.Committed; i++)
        {
            if (_rauc.RebootRequests > 0)
            {
                _rauc.Reboot();
            }

            await ReconcilerProcess.ReconcileAsync(fixture.Server, _s.Repo.Root, "main", _s.State, ns, extra: args);
        }

        Assert.Equal(UpgradePhase.Committed, _s.Journal!.Phase);
        Assert.Equal("B", _rauc.BootedName);
        Assert.Equal("good", Slot("rootfs.1")["boot_status"]!.GetValue<string>());
        Assert.Equal("2026.11.2", Slot("rootfs.1")["slot_status"]!["bundle"]!["version"]!.GetValue<string>());
        using var api = new KubeApi(fixture.Server.Configuration);
        Assert.Equal("UpgradeCommitted", Assert.Single(await _s.UpgradeEventsAsync(api)).Reason);
    }

    [Fact]
    public async Task RaucBackend_AfterTheSystemBusRestarts_ConnectsAgain_InsteadOfFailingEveryCallAfter()
    {
        await using var backend = new RaucSlotBackend(_rauc.Address, _rauc.RebootCommand);
        var before = await backend.StatusAsync(CancellationToken.None);

        _rauc.RestartBus();
        var after = await backend.StatusAsync(CancellationToken.None);
        await backend.MarkGoodAsync(after.Booted, CancellationToken.None);

        Assert.Equal(before.Booted, after.Booted);
        Assert.Equal("good", Slot(after.Booted)["boot_status"]!.GetValue<string>());
    }

    [Fact]
    public async Task RaucUpgrade_SystemBusDown_IsAPassToTryAgain_AndTheSameAgentInstallsOnceItIsBack()
    {
        _s.Workload("app");
        _s.Commit("app");
        using var api = new KubeApi(fixture.Server.Configuration);
        await using var backend = new RaucSlotBackend(_rauc.Address, _rauc.RebootCommand);
        var agent = _s.Reconciler(api, backend); // one agent for every pass, as the daemon keeps it
        Assert.Equal(PassOutcome.Applied, (await Pass(agent)).Outcome);
        _s.Plan("robot-os", "2026.11.2", backend: "rauc", image: _rauc.Bundle("2026.11.2"));
        _s.Commit("os 2026.11.2");

        _rauc.StopBus();
        var down = await Pass(agent);
        _rauc.RestartBus();
        var passes = new List<PassResult>();
        for (var i = 0; i < 3 && !(passes.LastOrDefault()?.Message.Contains("installed", StringComparison.Ordinal) ?? false); i++)
        {
            passes.Add(await Pass(agent));
        }

        // Not a crash, and not held against the revision: the bus, not the commit, was at fault.
        Assert.Equal(PassOutcome.Failed, down.Outcome);
        Assert.Contains("cannot reach the system D-Bus", down.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(passes, p => p.Message.Contains("failed before", StringComparison.Ordinal));
        Assert.Contains("installed 2026.11.2 into rootfs.1", passes[^1].Message, StringComparison.Ordinal);
        Assert.Equal(("B", 1), (_rauc.Primary, _rauc.RebootRequests));
    }

    [Fact]
    public async Task RaucBackend_WhileTheBusIsDown_FailsTheStepForLater_NotTheAgent()
    {
        await using var backend = new RaucSlotBackend(_rauc.Address, _rauc.RebootCommand);
        await backend.StatusAsync(CancellationToken.None);

        _rauc.StopBus();
        var down = await Assert.ThrowsAsync<UpgradeStepException>(() => backend.StatusAsync(CancellationToken.None));

        Assert.False(down.Permanent);
        Assert.Contains("cannot reach the system D-Bus", down.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RaucUpgrade_BundleForAnotherCompatible_IsRefusedByRaucAndNothingChanges()
    {
        _s.Workload("app");
        _s.Plan("robot-os", "2026.11.2", backend: "rauc", image: _rauc.Bundle("2026.11.2", compatible: "pomona-arm-v7"));
        _s.Commit("a bundle for another board");
        using var api = new KubeApi(fixture.Server.Configuration);
        await Pass(InProcess(api));

        var refused = await Pass(InProcess(api));

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
        await Pass(InProcess(api));

        var refused = await Pass(InProcess(api));

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
        await Pass(InProcess(api));
        await Pass(InProcess(api));
        _rauc.Reboot();
        await Pass(InProcess(api));
        await Task.Delay(TimeSpan.FromSeconds(1.1));

        var fallingBack = await Pass(InProcess(api));

        Assert.Contains("falling back to rootfs.0", fallingBack.Message, StringComparison.Ordinal);
        Assert.Equal(("A", "bad"), (_rauc.Primary, _rauc.SlotState("B")));
        Assert.Equal("A", _rauc.Reboot());
        await Pass(InProcess(api));
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
        await Pass(InProcess(api));
        await Pass(InProcess(api));
        _rauc.Reboot();
        Assert.Equal(PassOutcome.Waiting, (await Pass(InProcess(api))).Outcome);

        // Power is cut on trial; the bootloader's attempts for B are used up, so it boots A.
        _rauc.PowerCut(bootInto: "A");
        var after = await Pass(InProcess(api));

        Assert.Equal(UpgradePhase.Failed, _s.Journal!.Phase);
        Assert.Contains("came back on rootfs.0 during the trial", _s.Journal.Reason, StringComparison.Ordinal);
        Assert.Equal("rootfs.0", after.Report.Upgrade!.BootedSlot);
        await Pass(InProcess(api));
        Assert.Equal("UpgradeFailed", Assert.Single(await _s.UpgradeEventsAsync(api)).Reason);
    }
}

using System.Collections.Immutable;
using System.Globalization;
using EdgeOps.Fleet.Model;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Pipeline;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>The upgrade part of a status report: the plan, where it is, the versions and slots, and the phase times.</summary>
public sealed record UpgradeStatus
{
    public required string Plan { get; init; }

    public required string Component { get; init; }

    /// <summary>A journal phase, or Blocked (no host access) / Held (waiting for the gate).</summary>
    public required string Phase { get; init; }

    public string? FromVersion { get; init; }

    public string? ToVersion { get; init; }

    public string? RunningVersion { get; init; }

    public string? BootedSlot { get; init; }

    public string? TargetSlot { get; init; }

    public string? Reason { get; init; }

    public ImmutableSortedDictionary<string, DateTimeOffset>? PhaseTimes { get; init; }

    public static UpgradeStatus From(UpgradeRecord record, SlotReport? slots = null) => new()
    {
        Plan = record.Plan,
        Component = record.Component,
        Phase = record.Phase.ToString(),
        FromVersion = record.FromVersion,
        ToVersion = record.ToVersion,
        RunningVersion = slots?.BootedVersion,
        BootedSlot = slots?.Booted ?? record.FromSlot,
        TargetSlot = record.ToSlot,
        Reason = record.Reason,
        PhaseTimes = record.PhaseTimes,
    };
}

/// <summary>
/// Runs UpgradePlans as journalled transactions: select → fetch → verify → install into the inactive slot →
/// activate for the next boot only → reboot → trial with health gate → commit (mark good) or fall back (mark
/// bad, reboot into the old slot). Each phase is written to <see cref="UpgradeJournal"/> before its step starts,
/// so a kill or a power cut at any point resumes or undoes it; the final outcome is announced exactly once.
/// </summary>
public sealed class UpgradeRunner : IDisposable
{
    private readonly ReconcilerServices _services;
    private readonly HttpClient _http;
    private readonly ArtifactDownloader _downloader;
    private readonly UpgradeHealthGate _gate;
    private bool _rebootAsked;

    public UpgradeRunner(ReconcilerServices services)
    {
        _services = services;
        _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        Journal = new UpgradeJournal(services.Options.StateDirectory);
        ArtifactDirectory = Path.Combine(services.Options.StateDirectory, "upgrades");
        var progress = Options.Download.Progress;
        _downloader = new ArtifactDownloader(_http, ArtifactDirectory, Options.Download with
        {
            Clock = services.Options.Clock,
            Progress = bytes =>
            {
                progress?.Invoke(bytes);
                services.Options.Checkpoint?.Invoke("upgrade:download-chunk");
            },
        });
        _gate = new UpgradeHealthGate(services.Api, services.Health, new InventoryStore(services.Api, services.Options.Namespace), _http, Options.NodeName);
    }

    public UpgradeJournal Journal { get; }

    public string ArtifactDirectory { get; }

    private UpgradeOptions Options => _services.Options.Upgrades;

    private ISlotBackend? Backend => Options.Backend;

    private DateTimeOffset Now => _services.Options.Clock.GetUtcNow();

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// At the start of every pass, before the repo is read (works offline): an upgrade that asked for a reboot,
    /// is on trial or is falling back is carried on. Null lets the pass continue; otherwise the pass waits.
    /// </summary>
    public async Task<StepResult?> ContinueAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var record = Journal.Read();
        if (record is null)
        {
            return null;
        }

        pass.Upgrade = UpgradeStatus.From(record);
        if (!record.IsOpen)
        {
            if (!record.Reported)
            {
                await AnnounceAsync(pass, record, cancellationToken).ConfigureAwait(false);
            }

            return null;
        }

        if (record.Phase is UpgradePhase.Downloading or UpgradePhase.Verified)
        {
            return null; // nothing written to a slot yet: resumed once the revision is rendered
        }

        if (Backend is null)
        {
            return StepResult.Stop(PassOutcome.Failed, $"upgrade '{record.Plan}' is in phase {record.Phase}, but this agent has no slot backend (--slot-backend) to finish it");
        }

        var slots = await Backend.StatusAsync(cancellationToken).ConfigureAwait(false);
        pass.Upgrade = UpgradeStatus.From(record, slots);
        switch (record.Phase)
        {
            case UpgradePhase.Installing or UpgradePhase.Activated when slots.Booted != record.FromSlot && slots.BootedVersion == record.ToVersion:
                // Power was cut after the slot was written and made primary, and the device booted it: that is the trial.
                record = Write(pass, record.Enter(UpgradePhase.Trial, Now) with { ToSlot = slots.Booted }, "upgrade:trial");
                return await TrialAsync(pass, record, slots, cancellationToken).ConfigureAwait(false);

            case UpgradePhase.Installing or UpgradePhase.Activated:
                return null; // finished once the revision is rendered

            case UpgradePhase.Rebooting when slots.Booted == record.ToSlot:
                record = Write(pass, record.Enter(UpgradePhase.Trial, Now), "upgrade:trial");
                return await TrialAsync(pass, record, slots, cancellationToken).ConfigureAwait(false);

            case UpgradePhase.Rebooting when slots.Primary == record.ToSlot && slots.Find(record.ToSlot)?.BootStatus != "bad":
                return await AwaitRebootAsync(pass, record, $"upgrade '{record.Plan}' to {record.ToVersion}: waiting for the host to reboot into {record.ToSlot}", cancellationToken).ConfigureAwait(false);

            case UpgradePhase.Rebooting:
                await FinishAsync(pass, record, UpgradePhase.Failed, $"the device did not boot {record.ToSlot}: the bootloader returned to {slots.Booted}", slots, cancellationToken).ConfigureAwait(false);
                return null;

            case UpgradePhase.Trial:
                return await TrialAsync(pass, record, slots, cancellationToken).ConfigureAwait(false);

            case UpgradePhase.FallingBack when slots.Booted != record.ToSlot:
                await FinishAsync(pass, record, UpgradePhase.Failed, record.Reason ?? "fell back", slots, cancellationToken).ConfigureAwait(false);
                return null;

            default:
                return await AwaitRebootAsync(pass, record, $"upgrade '{record.Plan}' is falling back to {record.FromSlot}: {record.Reason}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After the revision is rendered and passed its policies: starts or resumes the plan placed on this cluster.
    /// Workloads that require the new version wait for its commit (the revision is not applied before); a revision
    /// whose other workloads do not depend on it is applied first and the plan starts on the next pass.
    /// </summary>
    public async Task<StepResult?> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var render = pass.Render!;
        var plans = render.State!.UpgradePlans.Select(n => render.Fleet.UpgradePlans.First(p => p.Name == n)).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        var requirements = render.State.Workloads.Select(n => render.Fleet.Workloads.First(w => w.Name == n)).Where(w => w.Requires is not null).ToList();
        var record = Journal.Read();
        if (plans.Count == 0 && requirements.Count == 0 && record is not { IsOpen: true })
        {
            return null;
        }

        var slots = Backend is null ? null : await Backend.StatusAsync(cancellationToken).ConfigureAwait(false);
        var running = slots?.BootedVersion;
        if (record is { IsOpen: true })
        {
            var current = plans.FirstOrDefault(p => p.Name == record.Plan && p.Artifact.Digest.Value == record.Digest);
            if (current is not null || record.Phase is not (UpgradePhase.Downloading or UpgradePhase.Verified))
            {
                return await ProceedAsync(pass, record, current, slots!, requirements.Count > 0, cancellationToken).ConfigureAwait(false);
            }

            // Withdrawn or replaced before anything touched a slot: abandon it.
            record = await FinishAsync(pass, record, UpgradePhase.Failed, $"withdrawn: revision {PassContext.Short(pass.Target)} no longer places this artifact here", slots, cancellationToken).ConfigureAwait(false);
        }

        var unmet = requirements.Where(w => !(w.Requires!.Component == Options.Component && w.Requires.Version.IsSatisfiedBy(running))).ToList();
        var blocked = plans.Where(p => !Serves(p)).ToList();
        var pending = plans.Where(p => Serves(p) && ComponentVersion.Compare(p.Version, running ?? string.Empty) != 0
            && !(record is { Phase: UpgradePhase.Failed } && record.Plan == p.Name && record.Digest == p.Artifact.Digest.Value)).ToList();
        if (blocked.Count > 0 && pending.Count == 0)
        {
            pass.Upgrade = new UpgradeStatus
            {
                Plan = blocked[0].Name,
                Component = blocked[0].ComponentName,
                Phase = "Blocked",
                ToVersion = blocked[0].Version,
                RunningVersion = running,
                Reason = BlockedReason(blocked[0]),
            };
        }

        if (pending.Count == 0)
        {
            return unmet.Count == 0 ? null : Unmet(pass, unmet[0], running, record, blocked);
        }

        var plan = pending[0];
        if (pass.IsTransaction && unmet.Count == 0)
        {
            return null; // the revision's workloads first; the plan starts on the next pass
        }

        if (await Options.Gate.HoldAsync(plan, render.Cluster!, Now, cancellationToken).ConfigureAwait(false) is { } hold)
        {
            pass.Upgrade = new UpgradeStatus { Plan = plan.Name, Component = plan.ComponentName, Phase = "Held", ToVersion = plan.Version, RunningVersion = running, Reason = hold.Reason };
            // Only a revision that needs the plan waits for it; otherwise the pass goes on (drift correction included).
            var until = hold.Until - Now;
            return unmet.Count > 0
                ? StepResult.Requeue(until > TimeSpan.Zero ? until : Options.PollInterval, $"upgrade '{plan.Name}' to {plan.Version} is held until {hold.Until:u}: {hold.Reason}")
                : null;
        }

        var started = new UpgradeRecord
        {
            Plan = plan.Name,
            Revision = pass.Target!,
            Component = plan.ComponentName,
            FromVersion = running,
            ToVersion = plan.Version,
            Url = plan.Artifact.Url.Value,
            Digest = plan.Artifact.Digest.Value,
            Size = plan.Artifact.Size,
            MaxKbps = plan.Download?.MaxKbps ?? render.Cluster!.Network?.BandwidthKbps,
            Retries = (plan.Download ?? DownloadSpec.Default).Retries,
            Phase = UpgradePhase.Downloading,
            FromSlot = slots!.Booted,
            HealthChecks = [.. plan.HealthChecks.Select(UpgradeCheck.From)],
            CommitAfterSeconds = plan.CommitAfter.TotalSeconds,
            Started = Now,
        };
        record = Write(pass, started.Enter(UpgradePhase.Downloading, Now), "upgrade:started");
        return await ProceedAsync(pass, record, plan, slots, unmet.Count > 0, cancellationToken).ConfigureAwait(false);
    }

    private bool Serves(UpgradePlan plan) => Backend is not null && plan.Slots.Backend == Backend.Name && plan.Component == Options.Component;

    private string BlockedReason(UpgradePlan plan) => Backend is null
        ? $"needs host access: this agent has no slot backend (in-cluster without the host's D-Bus; see docs/upgrades.md)"
        : plan.Component != Options.Component
            ? $"this agent's {Backend.Name} slots hold the {Options.Component.ToString().ToLowerInvariant()}, not the {plan.ComponentName}"
            : $"the plan needs a {plan.Slots.Backend} slot backend; this agent has {Backend.Name}";

    private StepResult Unmet(PassContext pass, Workload workload, string? running, UpgradeRecord? record, List<UpgradePlan> blocked)
    {
        var reason = $"workload '{workload.Name}' requires {workload.Requires}, but the device runs {running ?? "an unknown version"}";
        if (record is { Phase: UpgradePhase.Failed } && record.Component == workload.Requires!.Component.ToString().ToLowerInvariant())
        {
            reason += $"; upgrade '{record.Plan}' to {record.ToVersion} failed: {record.Reason}";
        }
        else if (blocked.Count > 0)
        {
            reason += $"; upgrade '{blocked[0].Name}' is blocked: {BlockedReason(blocked[0])}";
        }
        else
        {
            reason += "; no upgrade plan placed on this cluster provides it";
        }

        if (pass.IsTransaction)
        {
            pass.Save(pass.State with { FailedRevision = pass.Target, FailedReason = reason });
        }

        return StepResult.Stop(PassOutcome.Failed, $"revision {PassContext.Short(pass.Target)} is not applied: {reason}");
    }

    private async Task<StepResult?> ProceedAsync(PassContext pass, UpgradeRecord record, UpgradePlan? plan, SlotReport slots, bool revisionWaits, CancellationToken cancellationToken)
    {
        var backend = Backend ?? throw new ReconcilerException($"upgrade '{record.Plan}' is under way, but this agent has no slot backend to finish it");
        pass.Upgrade = UpgradeStatus.From(record, slots);
        var artifact = ArtifactDownloader.FileFor(ArtifactDirectory, record.Digest);
        try
        {
            if (record.Phase == UpgradePhase.Downloading)
            {
                pass.Checkpoint("upgrade:downloading");
                artifact = (await _downloader.FetchAsync(new DownloadRequest(new Uri(record.Url), record.Digest, record.Size, record.MaxKbps, record.Retries), cancellationToken).ConfigureAwait(false)).Path;
                pass.Checkpoint("upgrade:downloaded");
                if (plan is null)
                {
                    throw new UpgradeStepException("verify", "the plan is no longer in the revision", permanent: true);
                }

                if (ArtifactTrust.For(pass.Render!.Fleet, pass.Render.Files, _services.Options.Clock).Check(plan) is { } finding)
                {
                    throw new UpgradeStepException("verify", $"{finding.Code}: {finding.Message}", permanent: true);
                }

                record = Write(pass, record.Enter(UpgradePhase.Verified, Now), "upgrade:verified");
            }

            if (record.Phase is UpgradePhase.Verified or UpgradePhase.Installing)
            {
                if (!File.Exists(artifact) || await ArtifactDownloader.DigestOfAsync(artifact, cancellationToken).ConfigureAwait(false) != record.Digest)
                {
                    // Removed or damaged since it was verified: fetch and verify again.
                    record = Write(pass, record.Enter(UpgradePhase.Downloading, Now), "upgrade:refetch");
                    return await ProceedAsync(pass, record, plan, slots, revisionWaits, cancellationToken).ConfigureAwait(false);
                }

                record = Write(pass, record.Enter(UpgradePhase.Installing, Now), "upgrade:installing");
                var install = backend.InstallAsync(artifact, cancellationToken);
                pass.Checkpoint("upgrade:install-running");
                var slot = await install.ConfigureAwait(false);
                pass.Checkpoint("upgrade:installed");
                await backend.ActivateAsync(slot, cancellationToken).ConfigureAwait(false);
                record = Write(pass, record.Enter(UpgradePhase.Activated, Now) with { ToSlot = slot }, "upgrade:activated");
            }

            if (record.Phase == UpgradePhase.Activated)
            {
                record = Write(pass, record.Enter(UpgradePhase.Rebooting, Now) with { RebootRequests = record.RebootRequests + 1 }, "upgrade:rebooting");
                await backend.RequestRebootAsync(cancellationToken).ConfigureAwait(false);
                _rebootAsked = true;
                pass.Checkpoint("upgrade:reboot-requested");
                pass.Upgrade = UpgradeStatus.From(record, slots);
                return StepResult.Requeue(Options.RebootRetry, $"upgrade '{record.Plan}' installed {record.ToVersion} into {record.ToSlot}; rebooting into it on trial");
            }

            pass.Upgrade = UpgradeStatus.From(record, slots);
            return null;
        }
        catch (UpgradeStepException ex) when (ex.Permanent)
        {
            var reason = $"{ex.Step}: {ex.Message}";
            await FinishAsync(pass, record, UpgradePhase.Failed, reason, slots, cancellationToken).ConfigureAwait(false);
            var message = $"upgrade '{record.Plan}' to {record.ToVersion} failed at {reason}; the device stays on {record.FromVersion ?? "its version"} ({slots.Booted})";
            if (revisionWaits && pass.IsTransaction)
            {
                pass.Save(pass.State with { FailedRevision = pass.Target, FailedReason = message });
            }

            return StepResult.Stop(PassOutcome.Failed, message);
        }
        catch (Exception ex) when (ex is UpgradeStepException or IOException && !cancellationToken.IsCancellationRequested)
        {
            var step = ex is UpgradeStepException s ? s.Step : record.Phase.ToString().ToLowerInvariant();
            pass.Upgrade = UpgradeStatus.From(record, slots) with { Reason = $"{step}: {ex.Message}" };
            return StepResult.Stop(PassOutcome.Failed, $"upgrade '{record.Plan}' to {record.ToVersion} could not {step} yet ({ex.Message}); retried on the next pass");
        }
    }

    private async Task<StepResult?> TrialAsync(PassContext pass, UpgradeRecord record, SlotReport slots, CancellationToken cancellationToken)
    {
        if (slots.Booted != record.ToSlot)
        {
            await FinishAsync(pass, record, UpgradePhase.Failed, $"the device came back on {slots.Booted} during the trial of {record.ToSlot}", slots, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var trialStarted = record.PhaseTimes.GetValueOrDefault(nameof(UpgradePhase.Trial), Now);
        var outcomes = await _gate.RunAsync(record.HealthChecks, cancellationToken).ConfigureAwait(false);
        var failing = outcomes.Where(o => !o.Passed).ToList();
        var now = Now;
        if (failing.Count > 0)
        {
            var expired = failing.Select(f => (Outcome: f, Check: record.HealthChecks.First(c => c.Name == f.Name))).FirstOrDefault(f => now - trialStarted >= f.Check.Timeout);
            if (expired.Check is not null)
            {
                return await FallBackAsync(pass, record, $"health check '{expired.Check.Name}' did not pass within {Format(expired.Check.Timeout)} of the trial boot: {expired.Outcome.Detail}", cancellationToken).ConfigureAwait(false);
            }

            if (record.HealthyAt is not null)
            {
                record = Write(pass, record with { HealthyAt = null }, "upgrade:unhealthy");
            }

            pass.Upgrade = UpgradeStatus.From(record, slots) with { Reason = $"waiting for {failing[0].Name}: {failing[0].Detail}" };
            return StepResult.Requeue(Options.PollInterval, $"upgrade '{record.Plan}' to {record.ToVersion} on trial in {record.ToSlot}: waiting for health check '{failing[0].Name}' ({failing[0].Detail})");
        }

        if (record.HealthyAt is null)
        {
            record = Write(pass, record with { HealthyAt = now }, "upgrade:healthy");
        }

        var commitAt = record.HealthyAt!.Value + TimeSpan.FromSeconds(record.CommitAfterSeconds);
        if (now < commitAt)
        {
            pass.Upgrade = UpgradeStatus.From(record, slots);
            var wait = commitAt - now;
            return StepResult.Requeue(wait < Options.PollInterval ? wait : Options.PollInterval,
                $"upgrade '{record.Plan}' to {record.ToVersion} on trial in {record.ToSlot}: healthy since {record.HealthyAt:u}, commits at {commitAt:u}");
        }

        await Backend!.MarkGoodAsync(record.ToSlot!, cancellationToken).ConfigureAwait(false);
        pass.Checkpoint("upgrade:marked-good");
        await FinishAsync(pass, record, UpgradePhase.Committed, null, await Backend.StatusAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return null; // the rest of the pass runs: workloads waiting for this version may go now
    }

    private async Task<StepResult> FallBackAsync(PassContext pass, UpgradeRecord record, string reason, CancellationToken cancellationToken)
    {
        record = Write(pass, record.Enter(UpgradePhase.FallingBack, Now, reason), "upgrade:falling-back");
        await Backend!.MarkBadAsync(record.ToSlot!, cancellationToken).ConfigureAwait(false);
        await Backend.ActivateAsync(record.FromSlot!, cancellationToken).ConfigureAwait(false);
        pass.Checkpoint("upgrade:marked-bad");
        record = Write(pass, record with { RebootRequests = record.RebootRequests + 1 }, "upgrade:fallback-reboot");
        await Backend.RequestRebootAsync(cancellationToken).ConfigureAwait(false);
        _rebootAsked = true;
        pass.Checkpoint("upgrade:reboot-requested");
        pass.Upgrade = UpgradeStatus.From(record);
        return StepResult.Requeue(Options.RebootRetry, $"upgrade '{record.Plan}' to {record.ToVersion} is falling back to {record.FromSlot}: {reason}");
    }

    private async Task<StepResult> AwaitRebootAsync(PassContext pass, UpgradeRecord record, string message, CancellationToken cancellationToken)
    {
        // A process that has not asked yet may have died just before the request (or after it): asking again is harmless.
        var asked = record.PhaseTimes.GetValueOrDefault(record.Phase.ToString(), record.Started);
        if (!_rebootAsked || Now - asked >= Options.RebootRetry * Math.Max(1, record.RebootRequests))
        {
            record = Write(pass, record with { RebootRequests = record.RebootRequests + 1 }, "upgrade:reboot-again");
            await Backend!.RequestRebootAsync(cancellationToken).ConfigureAwait(false);
            _rebootAsked = true;
            pass.Checkpoint("upgrade:reboot-requested");
        }

        pass.Upgrade = UpgradeStatus.From(record);
        return StepResult.Requeue(Options.RebootRetry, message);
    }

    /// <summary>Closes the transaction (journal first), removes the artifact, and announces the outcome once.</summary>
    private async Task<UpgradeRecord> FinishAsync(PassContext pass, UpgradeRecord record, UpgradePhase phase, string? reason, SlotReport? slots, CancellationToken cancellationToken)
    {
        record = Write(pass, record.Enter(phase, Now, reason) with { Reported = false }, phase == UpgradePhase.Committed ? "upgrade:committed" : "upgrade:failed");
        foreach (var file in Directory.Exists(ArtifactDirectory) ? Directory.GetFiles(ArtifactDirectory) : [])
        {
            File.Delete(file);
        }

        pass.Upgrade = UpgradeStatus.From(record, slots);
        return await AnnounceAsync(pass, record, cancellationToken).ConfigureAwait(false);
    }

    private async Task<UpgradeRecord> AnnounceAsync(PassContext pass, UpgradeRecord record, CancellationToken cancellationToken)
    {
        if (!pass.OwnsCluster)
        {
            return record; // announced by the pass that holds the lease
        }

        var committed = record.Phase == UpgradePhase.Committed;
        var took = record.PhaseTimes.GetValueOrDefault(record.Phase.ToString(), Now) - record.Started;
        var message = committed
            ? $"upgrade '{record.Plan}' committed: {record.Component} {record.FromVersion ?? "unknown"} → {record.ToVersion} in {record.ToSlot} ({Format(took)})"
            : $"upgrade '{record.Plan}' to {record.ToVersion} failed: {record.Reason}";
        var name = $"edgeops-upgrade.{record.Plan}.{record.Digest[(record.Digest.IndexOf(':', StringComparison.Ordinal) + 1)..][..12]}.{record.Started.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
        if (await _services.Publisher.AnnounceOnceAsync(name, committed ? "Normal" : "Warning", committed ? "UpgradeCommitted" : "UpgradeFailed", message, Now, cancellationToken).ConfigureAwait(false))
        {
            record = Write(pass, record with { Reported = true }, "upgrade:reported");
        }

        return record;
    }

    private UpgradeRecord Write(PassContext pass, UpgradeRecord record, string checkpoint)
    {
        Journal.Write(record);
        pass.Checkpoint(checkpoint);
        return record;
    }

    private static string Format(TimeSpan span) => span.TotalSeconds < 120 ? $"{span.TotalSeconds:0.#} s" : span.TotalMinutes < 120 ? $"{span.TotalMinutes:0.#} min" : $"{span.TotalHours:0.#} h";
}

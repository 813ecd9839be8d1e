using System.Diagnostics;
using System.Runtime.ExceptionServices;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline.Steps;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;

namespace EdgeOps.Reconciler.Pipeline;

public sealed record ReconcilerOptions
{
    public required GitSourceOptions Source { get; init; }

    public required string Cluster { get; init; }

    /// <summary>
    /// Between passes, return the GC's free regions and drop clean file-backed pages from the resident set
    /// (<see cref="Hosting.IdleMemory"/>), so that the agent's footprint while it waits is what it uses.
    /// </summary>
    public bool ReleaseMemoryWhenIdle { get; init; } = true;

    public required string StateDirectory { get; init; }

    /// <summary>The reconciler's namespace: inventory, status, lease and events live there.</summary>
    public string Namespace { get; init; } = "edgeops-system";

    /// <summary>Allow moving to a revision that is not a descendant of the applied one.</summary>
    public bool AllowRollback { get; init; }

    /// <summary>Overrides the fleet's defaults.healthTimeout.</summary>
    public TimeSpan? HealthTimeout { get; init; }

    /// <summary>A JSON file of live facts: {"location": {"lat", "lon"}, "devices": {"class": count}}.</summary>
    public string? FactsFile { get; init; }

    /// <summary>Called at each step of a pass (tracing, crash tests).</summary>
    public Action<string>? Checkpoint { get; init; }

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Decides whether a revision may be applied (signatures); the default follows the fleet's spec.trust.</summary>
    public IRevisionVerifier Verifier { get; init; } = FleetTrustVerifier.Instance;

    /// <summary>Who this agent is in the cluster lease (default: the cluster and the install ID kept in the state folder).</summary>
    public string? Identity { get; init; }

    /// <summary>Shown beside the identity (default: the pod or host name).</summary>
    public string DisplayName { get; init; } = Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName;

    /// <summary>How long the cluster lease lasts without renewal (default: two sync intervals of 5 minutes).</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Signs every status report (status.json.sig, SSHSIG namespace edgeops-report) with the cluster's key; its public half is the Cluster's spec.reportKey.</summary>
    public Trust.Ssh.SshSigner? ReportSigner { get; init; }

    /// <summary>Where the live position comes from (placement by location with hysteresis); none: the Cluster's static location.</summary>
    public Location.LocationOptions Location { get; init; } = EdgeOps.Reconciler.Location.LocationOptions.None;

    /// <summary>How this agent performs UpgradePlans (its slot backend); none by default: plans are reported blocked.</summary>
    public Upgrades.UpgradeOptions Upgrades { get; init; } = EdgeOps.Reconciler.Upgrades.UpgradeOptions.None;

    /// <summary>The fleet's collector: signed reports go there (with <see cref="ReportSigner"/>), rollout gates come from there.</summary>
    public CollectorOptions? Collector { get; init; }

    /// <summary>Where every pass records itself for /metrics and /readyz (the daemon's; none for a single pass).</summary>
    public ReconcilerMetrics? Metrics { get; init; }
}

public enum PassOutcome
{
    Applied,
    Unchanged,
    Offline,
    Refused,
    Invalid,
    RolledBack,
    Failed,

    /// <summary>Nothing is wrong, but the pass cannot proceed yet (a step asked to requeue).</summary>
    Waiting,
}

public sealed record PassResult(PassOutcome Outcome, string? AppliedRevision, string? AttemptedRevision, string Message, StatusReport Report, TimeSpan? RequeueAfter = null)
{
    public bool Succeeded => Outcome is PassOutcome.Applied or PassOutcome.Unchanged or PassOutcome.Waiting;
}

/// <summary>
/// One reconcile pass, as an ordered list of steps — lease, source (with crash recovery), select,
/// verify, render, policy, plan, apply, health, commit — each of which continues, requeues or stops the
/// pass with an outcome. Whatever ends the pass (a step, an API error, a crash of the pass itself), one
/// place afterwards writes status.json, the status ConfigMap, Events and metrics, so no path skips them.
/// The cluster runs the last good revision or the new one, never a mixture.
/// </summary>
public sealed class Reconciler
{
    private readonly ReconcilerServices _services;
    private readonly IReadOnlyList<IReconcileStep> _steps;

    public Reconciler(ReconcilerOptions options, KubeApi api, IReadOnlyList<IReconcileStep>? steps = null)
    {
        _services = new ReconcilerServices(options, api);
        _steps = steps ?? DefaultSteps;
    }

    /// <summary>The steps of a pass, in order. Later features (upgrades, waves, windows) insert theirs into this list.</summary>
    public static IReadOnlyList<IReconcileStep> DefaultSteps { get; } =
    [
        new LeaseStep(), new UpgradeTrialStep(), new SourceStep(), new RecoverStep(), new SelectRevisionStep(), new VerifyStep(),
        new LocationStep(), new RenderStep(), new RolloutStep(), new PolicyStep(), new UpgradeStep(), new PlanStep(), new ApplyStep(), new HealthStep(), new SwitchOverStep(), new CommitStep(),
    ];

    /// <summary>The SSHSIG namespace of signed status reports.</summary>
    public const string ReportNamespace = "edgeops-report";

    private ReconcilerOptions Options => _services.Options;

    public async Task<PassResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        Options.Checkpoint?.Invoke("pass:start");
        PassContext pass;
        try
        {
            pass = new PassContext(_services, ReconcilerState.Load(Options.StateDirectory));
        }
        catch (InvalidDataException ex)
        {
            // A damaged state file: say so on every pass; nothing is guessed.
            pass = new PassContext(_services, new ReconcilerState());
            return await FinishAsync(pass, StepResult.Stop(PassOutcome.Failed, ex.Message), started, cancellationToken).ConfigureAwait(false);
        }

        var result = StepResult.Stop(PassOutcome.Failed, "the pass ended without an outcome");
        ExceptionDispatchInfo? crash = null;
        try
        {
            foreach (var step in _steps)
            {
                pass.Checkpoint($"step:{step.Name}");
                result = await step.RunAsync(pass, cancellationToken).ConfigureAwait(false);
                if (result.Kind != StepKind.Continue)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // stopping: the journal makes the next start finish or undo what was under way
        }
        catch (Exception ex) when (IsEnvironmental(ex))
        {
            result = StepResult.Stop(PassOutcome.Failed, GitSource.Redact(ex.Message));
        }
        catch (Exception ex)
        {
            // A defect: report it like any other outcome, then let it end the process (non-zero).
            result = StepResult.Stop(PassOutcome.Failed, $"internal error: {ex.GetType().Name}: {GitSource.Redact(ex.Message)}");
            crash = ExceptionDispatchInfo.Capture(ex);
            Quarantine(pass, ex);
        }
        finally
        {
            pass.Render?.Dispose();
        }

        var finished = await FinishAsync(pass, result, started, cancellationToken).ConfigureAwait(false);
        crash?.Throw();
        return finished;
    }

    /// <summary>
    /// A revision that crashed the agent on its way in is not tried again until the repo moves past it, like a revision
    /// that failed its health checks: after the restart the agent keeps the applied revision, instead of crashing on the
    /// same commit at every start while the whole fleet does the same.
    /// </summary>
    private static void Quarantine(PassContext pass, Exception ex)
    {
        if (!pass.IsTransaction || pass.State.AppliedRevision is null)
        {
            return;
        }

        try
        {
            pass.Save(pass.State with { FailedRevision = pass.Target, FailedReason = $"it crashed the agent ({ex.GetType().Name}: {GitSource.Redact(ex.Message)})" });
        }
        catch (Exception ex2) when (ex2 is IOException or UnauthorizedAccessException)
        {
            // Not recorded: the restart tries the revision again.
        }
    }

    /// <summary>Completes when something outside the pass asks for one now (a live position that changed placement).</summary>
    public Task WakeAsync(CancellationToken cancellationToken) => _services.Wake.WaitAsync(cancellationToken);

    /// <summary>Gives up the cluster lease (a clean stop): a replacement agent takes over on its first pass.</summary>
    public Task ReleaseAsync(CancellationToken cancellationToken) => _services.Lease.ReleaseAsync(cancellationToken);

    /// <summary>Failures of the world around the agent (API server, disk, Git, bad local files), as opposed to defects.</summary>
    internal static bool IsEnvironmental(Exception ex) =>
        ex is KubeUnavailableException or IOException or UnauthorizedAccessException or InvalidDataException or ReconcilerException
            or LibGit2Sharp.LibGit2SharpException or Fleet.Sources.FleetSourceException
            or Upgrades.UpgradeStepException; // the slot backend unreachable or refusing (no RAUC on the bus, the bus restarting): the journal resumes next pass

    /// <summary>Queues the compact signed report for the collector (when it says something new, or the heartbeat is due) and sends the outbox.</summary>
    private async Task<PassResult> SendReportAsync(PassContext pass, PassResult result, CancellationToken cancellationToken)
    {
        if (_services.Reports is not { } reports || Options.ReportSigner is not { } signer)
        {
            return result;
        }

        var cluster = pass.Render?.Cluster;
        var now = Options.Clock.GetUtcNow();
        var live = Options.Location.Source == Location.LocationSourceKind.None ? null : _services.Location.Status(Options.Location.Precision);
        var report = new AgentReport
        {
            Cluster = Options.Cluster,
            Applied = result.AppliedRevision,
            Attempted = result.AttemptedRevision == result.AppliedRevision ? null : result.AttemptedRevision, // left out when it is the applied one
            Failed = pass.State.FailedRevision is { } failed && failed != result.AppliedRevision ? failed : null,
            Outcome = result.Outcome.ToString(),
            Message = result.Message.Length > 240 ? result.Message[..240] : result.Message,
            Healthy = result.Succeeded && result.Report.FailedObjects.IsEmpty && result.AppliedRevision is not null,
            // The reason a cluster waits is in the message already: not sent twice.
            Rollout = pass.Rollout is { Reason: { } why } position && result.Message.Contains(why, StringComparison.Ordinal) ? position with { Reason = null } : pass.Rollout,
            Window = cluster?.MaintenanceWindow is { } window ? (Fleet.Model.MaintenanceWindows.Evaluate(window, now).Open ? "open" : "closed") : null,
            Upgrade = pass.Upgrade is { } upgrade ? $"{upgrade.Plan} {upgrade.Phase}" : null,
            OfflineSince = pass.State.OfflineSince,
            Lat = live?.Lat ?? cluster?.GeoLocation?.Lat,
            Lon = live?.Lon ?? cluster?.GeoLocation?.Lon,
        };
        try
        {
            reports.Enqueue(report, signer);
            await reports.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return result with { Message = $"{result.Message} (report not queued: {ex.Message})" };
        }

        return result;
    }

    private async Task<PassResult> FinishAsync(PassContext pass, StepResult result, long started, CancellationToken cancellationToken)
    {
        var state = pass.State;
        var outcome = result.Outcome;
        if (pass.Hold is { } hold && outcome is PassOutcome.Applied or PassOutcome.Unchanged)
        {
            // The applied revision was kept (and corrected); the new one waits for its wave, batch or window.
            var wait = hold.Until is { } until ? until - Options.Clock.GetUtcNow() : (TimeSpan?)null;
            result = StepResult.Requeue(wait > TimeSpan.Zero ? wait.Value : TimeSpan.Zero, $"{hold.Reason}; {result.Message}");
            if (wait is null || wait <= TimeSpan.Zero)
            {
                result = result with { Kind = StepKind.Stop };
            }

            outcome = PassOutcome.Waiting;
        }

        var changes = pass.Changes;
        var failed = (changes?.Changes ?? []).Concat(pass.RollbackChanges?.Changes ?? []).Where(c => c.Action == ChangeAction.Failed)
            .Select(c => new FailedObject(c.Id.ToString(), c.Reason ?? string.Empty, c.Location?.ToString())).Distinct().ToList();
        var report = StatusReport.For(Options.Cluster, _services.Git.DisplayUrl, state, outcome.ToString(), result.Message, pass.Target,
            pass.Violations, failed, changes, Stopwatch.GetElapsedTime(started).TotalSeconds, Options.Clock.GetUtcNow(),
            upgrade: pass.Upgrade,
            switchOvers: [.. _services.SwitchOver.Store.Records.Values.Select(SwitchOverStatus.From)],
            location: Options.Location.Source == Location.LocationSourceKind.None ? null : _services.Location.Status(Options.Location.Precision),
            drift: changes?.Changes.Where(c => c.Action == ChangeAction.Configured && c.Reason?.StartsWith(ApplyEngine.DriftReason, StringComparison.Ordinal) == true).Select(c => $"{c.Id}: {c.Reason}").ToList() ?? []);
        if (_services.Reports is { } reports)
        {
            var sent = reports.State;
            report = report with
            {
                Rollout = pass.Rollout,
                Collector = new CollectorReporting(reports.Client.BaseAddress.AbsoluteUri, sent.UnreachableSince, reports.Pending, sent.Dropped, sent.LastError, sent.LastRefused),
            };
        }
        else if (pass.Rollout is not null)
        {
            report = report with { Rollout = pass.Rollout };
        }

        var requeue = result.Kind == StepKind.RequeueAfter ? result.After : (TimeSpan?)null;
        var passResult = new PassResult(outcome, state.AppliedRevision, report.LastAttemptedRevision, result.Message, report, requeue);

        try
        {
            report.Save(Options.StateDirectory);
            if (Options.ReportSigner is { } signer)
            {
                var signature = signer.Sign(File.ReadAllBytes(Path.Combine(Options.StateDirectory, "status.json")), ReportNamespace);
                Transactions.DurableFile.WriteAllBytes(Path.Combine(Options.StateDirectory, "status.json.sig"), System.Text.Encoding.UTF8.GetBytes(signature));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A full or read-only state folder: the report still reaches the cluster and the metrics.
            passResult = passResult with { Message = $"{passResult.Message} (status.json not written: {ex.Message})" };
        }

        Options.Metrics?.Record(passResult);
        if (pass.OwnsCluster)
        {
            await _services.Publisher.PublishAsync(report, cancellationToken).ConfigureAwait(false);
            passResult = await SendReportAsync(pass, passResult, cancellationToken).ConfigureAwait(false);
        }

        return passResult;
    }
}

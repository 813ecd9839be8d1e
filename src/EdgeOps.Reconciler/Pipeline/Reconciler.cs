using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Policy.Checks;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Health;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.Pipeline;

public sealed record ReconcilerOptions
{
    public required GitSourceOptions Source { get; init; }

    public required string Cluster { get; init; }

    public required string StateDirectory { get; init; }

    /// <summary>The reconciler's namespace: inventory and status live there.</summary>
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

    /// <summary>Who this reconciler is, in the cluster lease (default: host name and state folder).</summary>
    public string? Identity { get; init; }

    /// <summary>How long the cluster lease lasts without renewal; a reconciler that stops longer loses it.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromHours(1);
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
}

public sealed record PassResult(PassOutcome Outcome, string? AppliedRevision, string? AttemptedRevision, string Message, StatusReport Report)
{
    public bool Succeeded => Outcome is PassOutcome.Applied or PassOutcome.Unchanged;
}

/// <summary>
/// One reconcile pass, as an ordered list of steps: recover from an interrupted transaction, pull the
/// fleet repo, choose the revision (never backwards, never a revision that already failed), render
/// this cluster's desired state, enforce the policies, apply it as a journalled transaction, wait for
/// health, commit or roll back, and report. Whatever happens, the cluster runs the last good revision
/// or the new one, never a mixture.
/// </summary>
public sealed class Reconciler(ReconcilerOptions options, KubeApi api)
{
    private readonly GitSource _git = new(options.Source);
    private readonly Journal _journal = new(options.StateDirectory);
    private readonly ApplyEngine _engine = new(api, new InventoryStore(api, options.Namespace));
    private readonly HealthChecker _health = new(api);
    private string? _published;
    private readonly ClusterLease _lease = new(api, options.Namespace,
        options.Identity ?? $"{Environment.MachineName}:{Path.GetFullPath(options.StateDirectory)}", options.LeaseDuration, options.Clock);

    public async Task<PassResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var state = ReconcilerState.Load(options.StateDirectory);
        Checkpoint("pass:start");
        if (await _lease.AcquireAsync(cancellationToken).ConfigureAwait(false) is { } holder)
        {
            // Another reconciler manages this cluster: change nothing, not even a journal entry.
            var report = new StatusReport
            {
                Cluster = options.Cluster,
                Repository = _git.DisplayUrl,
                AppliedRevision = state.AppliedRevision,
                Outcome = nameof(PassOutcome.Refused),
                Message = $"another reconciler holds this cluster's lease ({holder}); not reconciling",
                Time = options.Clock.GetUtcNow(),
            };
            report.Save(options.StateDirectory);
            return new PassResult(PassOutcome.Refused, state.AppliedRevision, null, report.Message, report);
        }

        state = await RecoverAsync(state, cancellationToken).ConfigureAwait(false);

        var now = options.Clock.GetUtcNow();
        var sync = _git.Sync();
        state = sync.Online
            ? state with { OfflineSince = null, LastSuccessfulSync = now }
            : state with { OfflineSince = state.OfflineSince ?? now };
        state.Save(options.StateDirectory);

        var head = sync.Revision;
        if (head is null)
        {
            return await FinishAsync(state, PassOutcome.Offline, null, sync.Error ?? "no revision", null, [], started, cancellationToken).ConfigureAwait(false);
        }

        var target = head;
        string? note = sync.Online ? null : $"offline ({sync.Error}); enforcing the cached revision";
        if (head == state.FailedRevision && state.AppliedRevision is not null)
        {
            target = state.AppliedRevision;
            note = $"revision {Short(head)} failed before ({state.FailedReason}); waiting for a newer one";
        }
        else if (head != state.AppliedRevision && _git.Judge(head, state.AppliedRevision) == HeadVerdict.NotDescendant && !options.AllowRollback)
        {
            var message = $"refused {Short(head)}: it is not a descendant of the applied revision {Short(state.AppliedRevision)} (history rewritten or an old commit replayed); allow it explicitly to go back";
            return await FinishAsync(state, PassOutcome.Refused, head, message, null, [], started, cancellationToken).ConfigureAwait(false);
        }

        RevisionVerdict? trust = null;
        if (target != state.AppliedRevision)
        {
            using var repository = _git.Open();
            trust = options.Verifier.Verify(repository, target, state.AppliedRevision);
            if (!trust.Accepted)
            {
                return await FinishAsync(state, PassOutcome.Refused, target, $"refused {Short(target)}: {trust.Reason}", null, [], started, cancellationToken).ConfigureAwait(false);
            }
        }

        var render = Render(target);
        if (render.Errors.Count > 0)
        {
            var reason = $"revision {Short(target)} is invalid: {render.Errors[0]}{(render.Errors.Count > 1 ? $" (and {render.Errors.Count - 1} more)" : string.Empty)}";
            if (target != state.AppliedRevision)
            {
                state = state with { FailedRevision = target, FailedReason = reason };
                state.Save(options.StateDirectory);
            }

            return await FinishAsync(state, PassOutcome.Invalid, target, reason, null, render.Violations, started, cancellationToken).ConfigureAwait(false);
        }

        if (target == state.AppliedRevision)
        {
            // The revision already runs: correct drift, write nothing if nothing drifted.
            var again = await _engine.ApplyAsync(render.Objects, ApplyOptions(target, render.Fleet), cancellationToken).ConfigureAwait(false);
            var outcome = again.ChangeSet.HasFailures ? PassOutcome.Failed : PassOutcome.Unchanged;
            var message = note ?? (again.ChangeSet.Count(ChangeAction.Configured) > 0 ? $"corrected drift: {again.ChangeSet}" : $"revision {Short(target)} is applied: {again.ChangeSet}");
            return await FinishAsync(state, outcome, target, message, again.ChangeSet, [], started, cancellationToken).ConfigureAwait(false);
        }

        return await TransactAsync(state, target, render, trust, started, cancellationToken).ConfigureAwait(false);
    }

    private async Task<PassResult> TransactAsync(ReconcilerState state, string target, RenderOutcome render, RevisionVerdict? trust, long started, CancellationToken cancellationToken)
    {
        var previous = state.AppliedRevision;
        _journal.Write(new JournalRecord(target, previous, TransactionPhase.Applying, options.Clock.GetUtcNow()));
        Checkpoint("journal:applying");
        var applied = await _engine.ApplyAsync(render.Objects, ApplyOptions(target, render.Fleet), cancellationToken).ConfigureAwait(false);
        Checkpoint("apply:done");
        if (applied.ChangeSet.HasFailures)
        {
            var failed = applied.ChangeSet.Changes.First(c => c.Action == ChangeAction.Failed);
            var reason = $"apply failed: {failed.Id}: {failed.Reason}";
            state = await RollBackAsync(state, target, previous, reason, cancellationToken).ConfigureAwait(false);
            return await FinishAsync(state, PassOutcome.RolledBack, target, $"{reason}; rolled back to {Short(previous)}", applied.ChangeSet, [], started, cancellationToken).ConfigureAwait(false);
        }

        _journal.Write(new JournalRecord(target, previous, TransactionPhase.Applied, options.Clock.GetUtcNow()));
        Checkpoint("journal:applied");
        var health = await _health.WaitAsync([.. render.Objects.Select(o => o.Id)], render.HealthTimeout, cancellationToken).ConfigureAwait(false);
        Checkpoint("health:done");
        if (!health.Healthy)
        {
            var reason = $"unhealthy: {health.Culprit!.Id}: {health.Culprit.Reason}";
            state = await RollBackAsync(state, target, previous, reason, cancellationToken).ConfigureAwait(false);
            return await FinishAsync(state, PassOutcome.RolledBack, target, $"{reason}; rolled back to {Short(previous)}", applied.ChangeSet, [], started, cancellationToken).ConfigureAwait(false);
        }

        state = Commit(state, target);
        return await FinishAsync(state, PassOutcome.Applied, target, $"applied {Short(target)}: {applied.ChangeSet}{(trust is { Signed: true } ? $"; {trust.Reason}" : string.Empty)}", applied.ChangeSet, [], started, cancellationToken).ConfigureAwait(false);
    }

    private ReconcilerState Commit(ReconcilerState state, string target)
    {
        _journal.Write(new JournalRecord(target, state.AppliedRevision, TransactionPhase.Committed, options.Clock.GetUtcNow()));
        Checkpoint("journal:committed");
        state = state with { AppliedRevision = target, FailedRevision = null, FailedReason = null };
        state.Save(options.StateDirectory);
        Checkpoint("state:saved");
        return state;
    }

    private async Task<ReconcilerState> RollBackAsync(ReconcilerState state, string target, string? previous, string reason, CancellationToken cancellationToken, bool markFailed = true)
    {
        _journal.Write(new JournalRecord(target, previous, TransactionPhase.RollingBack, options.Clock.GetUtcNow(), reason));
        Checkpoint("journal:rolling-back");
        IReadOnlyList<RenderedObject> objects = [];
        FleetModel? fleet = null;
        if (previous is not null)
        {
            var render = Render(previous, withPolicies: false);
            objects = render.Objects;
            fleet = render.Fleet;
        }

        var rollbackOptions = ApplyOptions(previous, fleet) with { Checkpoint = options.Checkpoint is { } checkpoint ? point => checkpoint("rollback:" + point) : null };
        var result = await _engine.RollbackAsync(objects, rollbackOptions, cancellationToken).ConfigureAwait(false);
        Checkpoint("rollback:done");
        if (result.ChangeSet.HasFailures)
        {
            // Leave the journal open: the next pass rolls back again rather than pretend the cluster is clean.
            throw new KubeUnavailableException($"rollback to {Short(previous)} did not complete: {result.ChangeSet}");
        }

        _journal.Write(new JournalRecord(target, previous, TransactionPhase.RolledBack, options.Clock.GetUtcNow(), reason));
        Checkpoint("journal:rolled-back");
        state = markFailed
            ? state with { AppliedRevision = previous, FailedRevision = target, FailedReason = reason }
            : state with { AppliedRevision = previous };
        state.Save(options.StateDirectory);
        return state;
    }

    /// <summary>Finishes or undoes a transaction that a crash or power loss interrupted.</summary>
    private async Task<ReconcilerState> RecoverAsync(ReconcilerState state, CancellationToken cancellationToken)
    {
        var record = _journal.Read();
        switch (Journal.Decide(record))
        {
            case RecoveryAction.FinishCommit:
                {
                    var render = Render(record!.TargetRevision, withPolicies: false);
                    var health = await _health.WaitAsync([.. render.Objects.Select(o => o.Id)], render.HealthTimeout, cancellationToken).ConfigureAwait(false);
                    return health.Healthy
                        ? Commit(state with { AppliedRevision = record.PreviousRevision }, record.TargetRevision)
                        : await RollBackAsync(state, record.TargetRevision, record.PreviousRevision, $"unhealthy after a restart: {health.Culprit!.Id}: {health.Culprit.Reason}", cancellationToken).ConfigureAwait(false);
                }

            case RecoveryAction.RollBack:
                // An interrupted apply is undone but not held against the revision (the pass tries it
                // again); an interrupted rollback finishes, and its reason stands.
                return await RollBackAsync(state, record!.TargetRevision, record.PreviousRevision,
                    record.Reason ?? $"interrupted while {record.Phase.ToString().ToLowerInvariant()} (restart)", cancellationToken,
                    markFailed: record.Reason is not null).ConfigureAwait(false);
            default:
                return state;
        }
    }

    private RenderOutcome Render(string revision, bool withPolicies = true)
    {
        using var source = GitTreeFleetSource.FromRepository(_git.Open(), revision);
        var bag = new DiagnosticBag();
        var files = new FleetFiles(source);
        var fleet = new FleetLoader().Load(files, bag);
        var cluster = fleet.FindCluster(options.Cluster);
        var errors = bag.ToSortedList().Where(d => d.IsError).Select(d => d.ToString()).ToList();
        if (cluster is null)
        {
            errors.Add($"the fleet has no cluster named '{options.Cluster}'");
            return new RenderOutcome(fleet, [], errors, [], TimeSpan.Zero);
        }

        var result = new Renderer(fleet).Render(cluster, ReadFacts());
        errors.AddRange(result.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
        var violations = new List<string>();
        if (withPolicies && errors.Count == 0)
        {
            using var check = new PolicyFleetCheck(options.Clock).Start(fleet, files, bag, CancellationToken.None);
            var checkResult = new ClusterCheckResult();
            check.Check(cluster, result.State, checkResult);
            var policyErrors = bag.ToSortedList().Where(d => d.IsError).Concat(checkResult.Diagnostics.Where(d => d.IsError)).Select(d => d.ToString()).Distinct().ToList();
            violations.AddRange(checkResult.Diagnostics.Select(d => d.ToString()));
            errors.AddRange(policyErrors);
        }

        return new RenderOutcome(fleet, result.State.Objects, errors, violations, options.HealthTimeout ?? fleet.Settings.Defaults.HealthTimeout);
    }

    private ClusterFacts? ReadFacts()
    {
        if (options.FactsFile is not { } path || !File.Exists(path))
        {
            return null;
        }

        var json = JsonNode.Parse(File.ReadAllText(path));
        GeoPoint? location = json?["location"] is JsonObject l && l["lat"] is JsonValue lat && l["lon"] is JsonValue lon
            ? new GeoPoint(lat.GetValue<double>(), lon.GetValue<double>())
            : null;
        var devices = json?["devices"] is JsonObject d
            ? d.ToImmutableSortedDictionary(p => p.Key, p => p.Value!.GetValue<int>(), StringComparer.Ordinal)
            : null;
        return new ClusterFacts(location, devices);
    }

    private ApplyOptions ApplyOptions(string? revision, FleetModel? fleet) => new()
    {
        Fleet = fleet?.Name ?? "unknown",
        Revision = revision,
        Checkpoint = options.Checkpoint,
    };

    private async Task<PassResult> FinishAsync(
        ReconcilerState state,
        PassOutcome outcome,
        string? attempted,
        string message,
        ChangeSet? changes,
        IReadOnlyList<string> violations,
        long started,
        CancellationToken cancellationToken)
    {
        var ok = outcome is PassOutcome.Applied or PassOutcome.Unchanged;
        var stalled = outcome is PassOutcome.Invalid or PassOutcome.Refused;
        var report = new StatusReport
        {
            Cluster = options.Cluster,
            Repository = _git.DisplayUrl,
            AppliedRevision = state.AppliedRevision,
            LastAttemptedRevision = attempted,
            Outcome = outcome.ToString(),
            Message = message,
            Conditions =
            [
                new StatusCondition("Ready", ok && state.OfflineSince is null ? "True" : "False", outcome.ToString(), message),
                new StatusCondition("Reconciling", "False", "PassFinished", message),
                new StatusCondition("Stalled", stalled ? "True" : "False", stalled ? outcome.ToString() : "None", stalled ? message : string.Empty),
            ],
            Violations = [.. violations],
            FailedObjects = changes is null ? [] : [.. changes.Changes.Where(c => c.Action == ChangeAction.Failed).Select(c => new FailedObject(c.Id.ToString(), c.Reason ?? string.Empty, c.Location?.ToString()))],
            Counts = changes is null ? new Dictionary<string, int>() : Enum.GetValues<ChangeAction>().ToDictionary(a => a.ToString().ToLowerInvariant(), changes.Count),
            DurationSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
            Time = options.Clock.GetUtcNow(),
            LastSuccessfulSync = state.LastSuccessfulSync,
            OfflineSince = state.OfflineSince,
        };
        report.Save(options.StateDirectory);
        await PublishAsync(report, cancellationToken).ConfigureAwait(false);
        return new PassResult(outcome, state.AppliedRevision, attempted, message, report);
    }

    /// <summary>The report in the cluster too: ConfigMap edgeops-status in the reconciler's namespace. Best effort.</summary>
    private async Task PublishAsync(StatusReport report, CancellationToken cancellationToken)
    {
        // Written only when something other than the timing changed, so an idle pass writes nothing.
        var signature = (report with { Time = default, DurationSeconds = 0, LastSuccessfulSync = null }).ToJson();
        if (signature == _published)
        {
            return;
        }

        try
        {
            var configMaps = await api.ResolveAsync("v1", "ConfigMap", cancellationToken).ConfigureAwait(false);
            var namespaces = await api.ResolveAsync("v1", "Namespace", cancellationToken).ConfigureAwait(false);
            if (configMaps is null || namespaces is null)
            {
                return;
            }

            var ns = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = options.Namespace } };
            await api.ApplyAsync(namespaces, null, options.Namespace, ns.ToJsonString(), "edgeops", force: false, cancellationToken).ConfigureAwait(false);
            var body = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "ConfigMap",
                ["metadata"] = new JsonObject { ["name"] = "edgeops-status", ["namespace"] = options.Namespace },
                ["data"] = new JsonObject { ["status.json"] = report.ToJson(), ["appliedRevision"] = report.AppliedRevision ?? string.Empty, ["outcome"] = report.Outcome },
            };
            var response = await api.ApplyAsync(configMaps, options.Namespace, "edgeops-status", body.ToJsonString(), "edgeops-status", force: true, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccess)
            {
                _published = signature;
            }
        }
        catch (KubeUnavailableException)
        {
            // The file report stands; the next pass publishes again.
        }
    }

    private void Checkpoint(string name) => options.Checkpoint?.Invoke(name);

    private static string Short(string? revision) => revision is null ? "nothing" : revision[..Math.Min(12, revision.Length)];

    private sealed record RenderOutcome(FleetModel Fleet, IReadOnlyList<RenderedObject> Objects, IReadOnlyList<string> Errors, IReadOnlyList<string> Violations, TimeSpan HealthTimeout);
}

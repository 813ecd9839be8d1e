using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// Server-side apply of the plan. For the revision that already runs this is drift correction: what
/// other field managers changed is taken back, objects that fail are reported and retried on the next
/// pass, and the pass ends. For a new revision it is the first half of a transaction, journalled
/// before the first write; a failure rolls back to the last good revision.
/// </summary>
public sealed class ApplyStep : IReconcileStep
{
    public string Name => "apply";

    public async Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var services = pass.Services;
        var target = pass.Target!;
        var options = new ApplyOptions { Fleet = pass.Render!.Fleet.Name, Revision = target, Checkpoint = pass.Options.Checkpoint };
        if (!pass.IsTransaction)
        {
            var again = await services.Engine.ApplyAsync(pass.Desired, options, cancellationToken).ConfigureAwait(false);
            pass.Changes = again.ChangeSet;
            var drift = again.ChangeSet.Changes.Where(c => c.Action == ChangeAction.Configured).ToList();
            if (again.ChangeSet.HasFailures)
            {
                var failed = again.ChangeSet.Changes.Where(c => c.Action == ChangeAction.Failed).ToList();
                return StepResult.Stop(PassOutcome.Failed,
                    $"{failed.Count} object(s) of revision {PassContext.Short(target)} failed and are retried on the next pass: {failed[0].Id}: {failed[0].Reason}{(pass.Note is null ? string.Empty : $"; {pass.Note}")}");
            }

            if (await services.SwitchOver.CompleteAsync(pass, cancellationToken).ConfigureAwait(false) is { } unfinished)
            {
                // A switch-over a restart interrupted could not finish: Services back to the active slot.
                services.SwitchOver.Abandon();
                pass.Desired = services.SwitchOver.Plan(pass.Render!, startSwitches: false);
                await services.Engine.ApplyAsync(pass.Desired, options, cancellationToken).ConfigureAwait(false);
                return StepResult.Stop(PassOutcome.Failed, unfinished);
            }

            var message = drift.Count > 0
                ? $"corrected drift: {string.Join("; ", drift.Select(c => $"{c.Id} ({c.Reason ?? "changed"})"))}"
                : $"revision {PassContext.Short(target)} is applied: {again.ChangeSet}";
            return StepResult.Stop(PassOutcome.Unchanged, pass.Note is null ? message : $"{pass.Note}; {message}");
        }

        var previous = pass.State.AppliedRevision;
        services.Journal.Write(new JournalRecord(target, previous, TransactionPhase.Applying, pass.Options.Clock.GetUtcNow()));
        pass.Checkpoint("journal:applying");
        var applied = await services.Engine.ApplyAsync(pass.Desired, options, cancellationToken).ConfigureAwait(false);
        pass.Changes = applied.ChangeSet;
        pass.Checkpoint("apply:done");
        if (applied.ChangeSet.HasFailures)
        {
            var failed = applied.ChangeSet.Changes.First(c => c.Action == ChangeAction.Failed);
            var reason = $"apply failed: {failed.Id}: {failed.Reason}";
            var rollback = await services.Transactions.RollBackAsync(pass, target, previous, reason, cancellationToken).ConfigureAwait(false);
            return StepResult.Stop(PassOutcome.RolledBack, RolledBack(reason, previous, rollback));
        }

        services.Journal.Write(new JournalRecord(target, previous, TransactionPhase.Applied, pass.Options.Clock.GetUtcNow()));
        pass.Checkpoint("journal:applied");
        return StepResult.Next;
    }

    internal static string RolledBack(string reason, string? previous, ChangeSet rollback) =>
        rollback.HasFailures
            ? $"{reason}; rolled back to {PassContext.Short(previous)}, but {rollback.Count(ChangeAction.Failed)} object(s) could not be restored ({rollback.Changes.First(c => c.Action == ChangeAction.Failed).Id}: {rollback.Changes.First(c => c.Action == ChangeAction.Failed).Reason}); they are retried on the next pass"
            : $"{reason}; rolled back to {PassContext.Short(previous)}";
}

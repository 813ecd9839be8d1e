using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>
/// Commit and rollback, shared by the steps that end a transaction and by crash recovery. A rollback
/// that cannot finish (an object the server keeps refusing) closes the transaction anyway, with the
/// objects that failed reported: the cluster runs the previous revision as far as it can, the failing
/// objects are retried on every pass, and a newer revision is never blocked by it.
/// </summary>
public sealed class TransactionRunner(ReconcilerServices services)
{
    private ReconcilerOptions Options => services.Options;

    public void Commit(PassContext pass, string target)
    {
        services.Journal.Write(new JournalRecord(target, pass.State.AppliedRevision, TransactionPhase.Committed, Options.Clock.GetUtcNow()));
        pass.Checkpoint("journal:committed");
        // A rollback out of a halted rollout leaves no previous revision to go back to; a step forward remembers it.
        var previous = pass.RollingBack ? null : pass.State.AppliedRevision != target ? pass.State.AppliedRevision : pass.State.PreviousRevision;
        pass.Save(pass.State with { AppliedRevision = target, PreviousRevision = previous, FailedRevision = null, FailedReason = null });
        pass.Checkpoint("state:saved");
    }

    /// <summary>Returns the cluster to <paramref name="previous"/>; the change set of the rollback (failures included).</summary>
    public async Task<ChangeSet> RollBackAsync(PassContext pass, string target, string? previous, string reason, CancellationToken cancellationToken, bool markFailed = true)
    {
        services.Journal.Write(new JournalRecord(target, previous, TransactionPhase.RollingBack, Options.Clock.GetUtcNow(), reason));
        pass.Checkpoint("journal:rolling-back");
        IReadOnlyList<RenderedObject> objects = [];
        var fleet = pass.Render?.Fleet.Name ?? "unknown";
        services.SwitchOver.Abandon(); // Services back to the active slot; the target slot is pruned
        if (previous is not null)
        {
            using var render = services.Renderer.Render(previous);
            objects = services.SwitchOver.Plan(render, startSwitches: false);
            fleet = render.Fleet.Name;
        }

        var rollbackOptions = new ApplyOptions
        {
            Fleet = fleet,
            Revision = previous,
            Checkpoint = Options.Checkpoint is { } checkpoint ? point => checkpoint("rollback:" + point) : null,
        };
        var result = await services.Engine.RollbackAsync(objects, rollbackOptions, cancellationToken).ConfigureAwait(false);
        pass.Checkpoint("rollback:done");
        var note = result.ChangeSet.HasFailures ? $"{reason}; rollback incomplete: {result.ChangeSet}" : reason;
        services.Journal.Write(new JournalRecord(target, previous, TransactionPhase.RolledBack, Options.Clock.GetUtcNow(), note));
        pass.Checkpoint("journal:rolled-back");
        pass.Save(markFailed
            ? pass.State with { AppliedRevision = previous, FailedRevision = target, FailedReason = reason }
            : pass.State with { AppliedRevision = previous });
        pass.RollbackChanges = result.ChangeSet;
        return result.ChangeSet;
    }
}

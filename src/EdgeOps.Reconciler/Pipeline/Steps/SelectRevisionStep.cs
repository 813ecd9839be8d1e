using EdgeOps.Reconciler.Source;

namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// Chooses the revision to work towards: the head, unless it failed before (then the applied one, until
/// the repo moves on) or it would move backwards in history without the operator's leave.
/// </summary>
public sealed class SelectRevisionStep : IReconcileStep
{
    public string Name => "select";

    public Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var sync = pass.Sync!;
        var head = sync.Revision!;
        var state = pass.State;
        pass.Target = head;
        pass.Note = sync.Online ? null : $"offline ({sync.Error}); enforcing the cached revision";
        if (head == state.FailedRevision && state.AppliedRevision is not null)
        {
            pass.Target = state.AppliedRevision;
            pass.Note = $"revision {PassContext.Short(head)} failed before ({state.FailedReason}); waiting for a newer one";
        }
        else if (head != state.AppliedRevision && !pass.Options.AllowRollback && pass.Services.Git.Judge(head, state.AppliedRevision) == HeadVerdict.NotDescendant)
        {
            return Task.FromResult(StepResult.Stop(PassOutcome.Refused,
                $"refused {PassContext.Short(head)}: it is not a descendant of the applied revision {PassContext.Short(state.AppliedRevision)} (history rewritten or an old commit replayed); allow it explicitly to go back"));
        }

        return Task.FromResult(StepResult.Next);
    }
}

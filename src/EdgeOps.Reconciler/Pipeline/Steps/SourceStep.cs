namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// Fetches the fleet repo into the cache (rebuilding a damaged cache first). Unreachable: the cached
/// head is used and the pass reports offline. A repository or branch that the remote says does not
/// exist is a configuration error, not an outage: the pass is refused with that message.
/// </summary>
public sealed class SourceStep : IReconcileStep
{
    public string Name => "source";

    public Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var now = pass.Options.Clock.GetUtcNow();
        // At start-up, or with a transaction to recover, first make sure the cache can serve what recovery reads.
        var record = pass.Services.Journal.Read();
        var deep = !pass.Services.StartupChecked || Transactions.Journal.Decide(record) != Transactions.RecoveryAction.None;
        var sync = pass.Services.Git.Sync(deep, [pass.State.AppliedRevision, record?.TargetRevision, record?.PreviousRevision]);
        pass.Services.StartupChecked = true;
        pass.Sync = sync;
        pass.Save(sync.Online
            ? pass.State with { OfflineSince = null, LastSuccessfulSync = now }
            : pass.State with { OfflineSince = pass.State.OfflineSince ?? now });
        if (sync.Missing)
        {
            return Task.FromResult(StepResult.Stop(PassOutcome.Refused, sync.Error!));
        }

        return Task.FromResult(sync.Revision is null
            ? StepResult.Stop(PassOutcome.Offline, sync.Error ?? "no revision")
            : StepResult.Next);
    }
}

using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// Finishes or undoes a transaction that a crash or power loss interrupted, using the journal; runs
/// after the source step so that a damaged repo cache has been rebuilt before recovery reads from it.
/// </summary>
public sealed class RecoverStep : IReconcileStep
{
    public string Name => "recover";

    public async Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var services = pass.Services;
        var record = services.Journal.Read();

        switch (Journal.Decide(record))
        {
            case RecoveryAction.FinishCommit:
                {
                    using var render = services.Renderer.Render(record!.TargetRevision);
                    var health = await services.Health.WaitAsync([.. services.SwitchOver.Plan(render, startSwitches: false).Select(o => o.Id)], render.HealthTimeout, cancellationToken).ConfigureAwait(false);
                    if (health.Healthy)
                    {
                        pass.State = pass.State with { AppliedRevision = record.PreviousRevision };
                        services.Transactions.Commit(pass, record.TargetRevision);
                    }
                    else
                    {
                        await services.Transactions.RollBackAsync(pass, record.TargetRevision, record.PreviousRevision,
                            $"unhealthy after a restart: {health.Culprit!.Id}: {health.Culprit.Reason}", cancellationToken).ConfigureAwait(false);
                    }

                    break;
                }

            case RecoveryAction.RollBack:
                // An interrupted apply is undone but not held against the revision (the pass tries it
                // again); an interrupted rollback finishes, and its reason stands.
                await services.Transactions.RollBackAsync(pass, record!.TargetRevision, record.PreviousRevision,
                    record.Reason ?? $"interrupted while {record.Phase.ToString().ToLowerInvariant()} (restart)", cancellationToken,
                    markFailed: record.Reason is not null).ConfigureAwait(false);
                break;
        }

        return StepResult.Next;
    }
}

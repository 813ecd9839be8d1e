namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// After the new revision is applied and healthy: BlueGreen workloads it changed switch over (pre-initialised
/// green, device handoff, Services in one step, health after the switch). A switch that fails puts the Services
/// back on the active slot and rolls the revision back.
/// </summary>
public sealed class SwitchOverStep : IReconcileStep
{
    public string Name => "switch-over";

    public async Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var services = pass.Services;
        if (await services.SwitchOver.CompleteAsync(pass, cancellationToken).ConfigureAwait(false) is not { } failure)
        {
            return StepResult.Next;
        }

        var previous = pass.State.AppliedRevision;
        var rollback = await services.Transactions.RollBackAsync(pass, pass.Target!, previous, failure, cancellationToken).ConfigureAwait(false);
        return StepResult.Stop(PassOutcome.RolledBack, ApplyStep.RolledBack(failure, previous, rollback));
    }
}

namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>Waits for the applied revision's workloads to be healthy within the health timeout; unhealthy rolls back.</summary>
public sealed class HealthStep : IReconcileStep
{
    public string Name => "health";

    public async Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var services = pass.Services;
        var health = await services.Health.WaitAsync([.. pass.Desired.Select(o => o.Id)], pass.Render!.HealthTimeout, cancellationToken).ConfigureAwait(false);
        pass.Checkpoint("health:done");
        if (health.Healthy)
        {
            return StepResult.Next;
        }

        var previous = pass.State.AppliedRevision;
        var reason = $"unhealthy: {health.Culprit!.Id}: {health.Culprit.Reason}";
        var rollback = await services.Transactions.RollBackAsync(pass, pass.Target!, previous, reason, cancellationToken).ConfigureAwait(false);
        return StepResult.Stop(PassOutcome.RolledBack, ApplyStep.RolledBack(reason, previous, rollback));
    }
}

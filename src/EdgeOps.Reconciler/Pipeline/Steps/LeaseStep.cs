namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>Takes or renews the cluster's lease; another agent's unexpired lease ends the pass without touching the cluster.</summary>
public sealed class LeaseStep : IReconcileStep
{
    public string Name => "lease";

    public async Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var lease = await pass.Services.Lease.AcquireAsync(cancellationToken).ConfigureAwait(false);
        if (lease.Error is { } error)
        {
            return StepResult.Stop(PassOutcome.Failed, error);
        }

        if (!lease.Acquired)
        {
            return StepResult.Stop(PassOutcome.Refused, $"another agent holds this cluster's lease ({lease.Holder}); not reconciling");
        }

        pass.OwnsCluster = true;
        return StepResult.Next;
    }
}

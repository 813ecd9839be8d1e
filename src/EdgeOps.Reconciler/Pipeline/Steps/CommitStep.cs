namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>The target revision is applied and healthy: it becomes the last good revision.</summary>
public sealed class CommitStep : IReconcileStep
{
    public string Name => "commit";

    public Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var target = pass.Target!;
        pass.Services.Transactions.Commit(pass, target);
        var signer = pass.Trust is { Signed: true } trust ? $"; {trust.Reason}" : string.Empty;
        var message = $"applied {PassContext.Short(target)}: {pass.Changes}{signer}";
        return Task.FromResult(StepResult.Stop(PassOutcome.Applied, pass.RolloutNote is { } note ? $"{note}; {message}" : message));
    }
}

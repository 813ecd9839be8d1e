namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>May the target revision be applied at all (who signed it)? The applied revision was verified when it was applied.</summary>
public sealed class VerifyStep : IReconcileStep
{
    public string Name => "verify";

    public Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        if (!pass.IsTransaction)
        {
            return Task.FromResult(StepResult.Next);
        }

        using var repository = pass.Services.Git.Open();
        pass.Trust = pass.Options.Verifier.Verify(repository, pass.Target!, pass.State.AppliedRevision);
        return Task.FromResult(pass.Trust.Accepted
            ? StepResult.Next
            : StepResult.Stop(PassOutcome.Refused, $"refused {PassContext.Short(pass.Target)}: {pass.Trust.Reason}"));
    }
}

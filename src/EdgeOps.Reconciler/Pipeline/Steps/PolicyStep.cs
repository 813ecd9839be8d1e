namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// Enforces the fleet's policies on the rendered revision. A denial — or a policy that fails in any way,
/// however it fails — marks a new revision failed and keeps the last good one running.
/// </summary>
public sealed class PolicyStep : IReconcileStep
{
    public string Name => "policy";

    public Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        if (!pass.IsTransaction && pass.Options.Location.Source == Location.LocationSourceKind.None)
        {
            return Task.FromResult(StepResult.Next); // the applied revision passed its policies when it was applied
        }

        IReadOnlyList<string> errors;
        try
        {
            (errors, var violations) = RevisionRenderer.Enforce(pass.Render!, pass.Options.Clock, cancellationToken);
            pass.Violations = violations;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A policy must never take the agent down: whatever escaped the sandbox is the policy's failure.
            errors = [$"policy evaluation failed: {ex.GetType().Name}: {ex.Message}"];
        }

        return Task.FromResult(errors.Count == 0 ? StepResult.Next : RenderStep.Invalid(pass, errors));
    }
}

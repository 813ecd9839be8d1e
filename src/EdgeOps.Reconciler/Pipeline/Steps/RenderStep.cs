namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>Loads the target revision from the cache and renders this cluster's desired state; an invalid revision is marked failed.</summary>
public sealed class RenderStep : IReconcileStep
{
    public string Name => "render";

    public Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var render = pass.Services.Renderer.Render(pass.Target!);
        pass.Render = render;
        return Task.FromResult(render.Errors.Count == 0
            ? StepResult.Next
            : Invalid(pass, render.Errors));
    }

    /// <summary>Ends the pass for a revision that must not be applied; a new revision is remembered as failed so that it is not retried.</summary>
    internal static StepResult Invalid(PassContext pass, IReadOnlyList<string> errors)
    {
        var reason = $"revision {PassContext.Short(pass.Target)} is invalid: {errors[0]}{(errors.Count > 1 ? $" (and {errors.Count - 1} more)" : string.Empty)}";
        if (pass.IsTransaction)
        {
            pass.Save(pass.State with { FailedRevision = pass.Target, FailedReason = reason });
        }

        return StepResult.Stop(PassOutcome.Invalid, reason);
    }
}

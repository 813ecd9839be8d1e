namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// What the apply step will apply: the rendered objects, plus a namespace for every namespace they
/// use that no manifest ships (created and owned by the agent).
/// </summary>
public sealed class PlanStep : IReconcileStep
{
    public string Name => "plan";

    public Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var render = pass.Render!;
        pass.Desired = NamespacePlanner.Complete(render.Objects, render.Fleet.Name);
        return Task.FromResult(StepResult.Next);
    }
}

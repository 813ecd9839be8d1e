namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// What the apply step will apply: the rendered objects, plus a namespace for every namespace they
/// use that no manifest ships (created and owned by the agent), with BlueGreen workloads split into slots.
/// </summary>
public sealed class PlanStep : IReconcileStep
{
    public string Name => "plan";

    public Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        // BlueGreen workloads become their slots; a changed one starts a switch-over (new revisions only).
        pass.Desired = pass.Services.SwitchOver.Plan(pass.Render!, startSwitches: pass.IsTransaction);
        return Task.FromResult(StepResult.Next);
    }
}

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>What a step tells the pass to do next.</summary>
public enum StepKind
{
    /// <summary>Go on with the next step.</summary>
    Continue,

    /// <summary>Nothing is wrong, but the pass cannot go further yet: try again after <see cref="StepResult.After"/>.</summary>
    RequeueAfter,

    /// <summary>The pass ends here with <see cref="StepResult.Outcome"/>.</summary>
    Stop,
}

/// <summary>The answer of one step: continue, requeue after a while (waiting is not failure), or stop with an outcome.</summary>
public readonly record struct StepResult(StepKind Kind, PassOutcome Outcome, string Message, TimeSpan After = default)
{
    public static readonly StepResult Next = new(StepKind.Continue, PassOutcome.Unchanged, string.Empty);

    public static StepResult Stop(PassOutcome outcome, string message) => new(StepKind.Stop, outcome, message);

    public static StepResult Requeue(TimeSpan after, string reason) => new(StepKind.RequeueAfter, PassOutcome.Waiting, reason, after);
}

/// <summary>
/// One step of a reconcile pass (Source, Verify, Render, Policy, Plan, Apply, Health, Commit …). Steps
/// share what they learn through the <see cref="PassContext"/>; none writes status: the reconciler does
/// that once, after whichever step ended the pass.
/// </summary>
public interface IReconcileStep
{
    string Name { get; }

    Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken);
}

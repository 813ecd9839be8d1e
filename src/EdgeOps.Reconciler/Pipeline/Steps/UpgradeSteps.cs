namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// First thing after the lease, before the repo is read: an upgrade that rebooted, is on trial or is falling back
/// is carried to its end (health gate, commit or fall-back). While it is under way the pass goes no further, so a
/// second plan never starts during a trial.
/// </summary>
public sealed class UpgradeTrialStep : IReconcileStep
{
    public string Name => "upgrade-trial";

    public async Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken) =>
        await pass.Services.Upgrades.ContinueAsync(pass, cancellationToken).ConfigureAwait(false) ?? StepResult.Next;
}

/// <summary>After the policies passed: starts or resumes the UpgradePlan placed on this cluster (download, verify, install, activate, reboot).</summary>
public sealed class UpgradeStep : IReconcileStep
{
    public string Name => "upgrade";

    public async Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken) =>
        await pass.Services.Upgrades.RunAsync(pass, cancellationToken).ConfigureAwait(false) ?? StepResult.Next;
}

/// <summary>After render: whether this cluster may take the new revision now (waves, batches, windows, halts), or keeps the applied one and waits.</summary>
public sealed class RolloutStep : IReconcileStep
{
    public string Name => "rollout";

    public Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken) => pass.Services.Rollouts.RunAsync(pass, cancellationToken);
}

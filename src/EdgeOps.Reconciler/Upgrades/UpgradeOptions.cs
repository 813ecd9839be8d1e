using EdgeOps.Fleet.Model;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>Why a plan may not start now, and when to look again.</summary>
public sealed record UpgradeHold(string Reason, DateTimeOffset Until);

/// <summary>
/// Decides whether a plan may start now: the seam for maintenance windows and rollout waves. The default
/// lets every plan start; a hold keeps the plan (and the workloads that need it) waiting, not failed.
/// </summary>
public interface IUpgradeGate
{
    ValueTask<UpgradeHold?> HoldAsync(UpgradePlan plan, Cluster cluster, DateTimeOffset now, CancellationToken cancellationToken);
}

public sealed class OpenUpgradeGate : IUpgradeGate
{
    public static readonly OpenUpgradeGate Instance = new();

    public ValueTask<UpgradeHold?> HoldAsync(UpgradePlan plan, Cluster cluster, DateTimeOffset now, CancellationToken cancellationToken) => ValueTask.FromResult<UpgradeHold?>(null);
}

/// <summary>How this agent performs upgrades; without a <see cref="Backend"/> (an in-cluster agent without host access) plans are reported blocked.</summary>
public sealed record UpgradeOptions
{
    public static readonly UpgradeOptions None = new();

    public ISlotBackend? Backend { get; init; }

    /// <summary>The component whose versions the backend's slots hold.</summary>
    public UpgradeComponent Component { get; init; } = UpgradeComponent.Os;

    public DownloaderOptions Download { get; init; } = new();

    /// <summary>How often a trial looks at its health checks again.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long after asking for a reboot that has not happened the agent asks again.</summary>
    public TimeSpan RebootRetry { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The node whose Ready condition <c>kubernetes.nodeReady</c> checks (default: NODE_NAME; unset: every node).</summary>
    public string? NodeName { get; init; } = Environment.GetEnvironmentVariable("NODE_NAME");

    public IUpgradeGate Gate { get; init; } = MaintenanceWindowGate.Instance;
}

/// <summary>
/// The default gate: a plan with <c>respectMaintenanceWindow</c> (the default) starts only while its cluster's
/// maintenance window is open, and is held until the next opening otherwise. Rollout waves add to this gate.
/// </summary>
public sealed class MaintenanceWindowGate : IUpgradeGate
{
    public static readonly MaintenanceWindowGate Instance = new();

    public ValueTask<UpgradeHold?> HoldAsync(UpgradePlan plan, Cluster cluster, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!plan.RespectMaintenanceWindow || cluster.MaintenanceWindow is not { } window)
        {
            return ValueTask.FromResult<UpgradeHold?>(null);
        }

        var state = MaintenanceWindows.Evaluate(window, now);
        return ValueTask.FromResult(state.Open
            ? null
            : new UpgradeHold($"outside the maintenance window '{window.Schedule.Value}' ({window.TimeZone.Value}); it opens at {state.OpensAt:u}", state.OpensAt ?? now.AddDays(1)));
    }
}

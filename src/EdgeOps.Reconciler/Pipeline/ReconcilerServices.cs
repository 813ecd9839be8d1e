using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Health;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Location;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.SwitchOver;
using EdgeOps.Reconciler.Transactions;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>What the steps of a pass work with: the options and the agent's long-lived parts, built once per agent.</summary>
public sealed class ReconcilerServices
{
    public ReconcilerServices(ReconcilerOptions options, KubeApi api)
    {
        Options = options;
        Api = api;
        Git = new GitSource(options.Source);
        Journal = new Journal(options.StateDirectory);
        Engine = new ApplyEngine(api, new InventoryStore(api, options.Namespace), options.Clock);
        Health = new HealthChecker(api, options.Clock);
        Location = new LocationTracker(options.StateDirectory);
        Location.PlacementChanged += () =>
        {
            if (Wake.CurrentCount == 0)
            {
                Wake.Release();
            }
        };
        Renderer = new RevisionRenderer(options, Git, Location);
        var identity = options.Identity ?? $"{options.Cluster}/{ClusterLease.InstallId(options.StateDirectory)}";
        Lease = new ClusterLease(api, options.Namespace, identity, options.DisplayName, options.LeaseDuration, options.Clock);
        Publisher = new StatusPublisher(api, options.Namespace, identity);
        Publisher.Seed(PreviousReport(options.StateDirectory));
        Transactions = new TransactionRunner(this);
        Upgrades = new UpgradeRunner(this);
        SwitchOver = new SwitchOverRunner(this);
        Reports = options.Collector is { } collector ? new ReportSender(collector, options.StateDirectory, options.Clock) : null;
        Rollouts = new Rollouts.RolloutCoordinator(this);
    }

    public ReconcilerOptions Options { get; }

    public KubeApi Api { get; }

    public GitSource Git { get; }

    public Journal Journal { get; }

    public ApplyEngine Engine { get; }

    public HealthChecker Health { get; }

    public RevisionRenderer Renderer { get; }

    /// <summary>The live position and the placements decided from it with hysteresis.</summary>
    public LocationTracker Location { get; }

    /// <summary>Released when a pass is wanted before the interval ends.</summary>
    public SemaphoreSlim Wake { get; } = new(0, 1);

    /// <summary>The gpsd follower, when the location source is gpsd (started with the first pass).</summary>
    public GpsdWatcher? Gpsd { get; set; }

    public ClusterLease Lease { get; }

    public StatusPublisher Publisher { get; }

    public TransactionRunner Transactions { get; }

    public UpgradeRunner Upgrades { get; }

    /// <summary>BlueGreen switch-overs: the slot plan and the journalled switch.</summary>
    public SwitchOverRunner SwitchOver { get; }

    /// <summary>The outbox and client for the fleet's collector; null when the agent reports to none.</summary>
    public ReportSender? Reports { get; }

    /// <summary>Waves, batches, windows and halts: whether this cluster takes a new revision now.</summary>
    public Rollouts.RolloutCoordinator Rollouts { get; }

    /// <summary>Whether this agent has checked its repo cache deeply since it started.</summary>
    public bool StartupChecked { get; set; }

    private static StatusReport? PreviousReport(string directory)
    {
        try
        {
            var path = Path.Combine(directory, "status.json");
            return File.Exists(path) ? StatusReport.Read(path) : null;
        }
        catch (InvalidDataException)
        {
            return null; // rewritten by the next pass
        }
    }
}

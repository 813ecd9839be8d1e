using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Source;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>What one pass has learnt so far, handed from step to step.</summary>
public sealed class PassContext(ReconcilerServices services, ReconcilerState state)
{
    public ReconcilerServices Services { get; } = services;

    public ReconcilerOptions Options => Services.Options;

    /// <summary>The reconciler's memory on disk; steps replace it and save it as they go.</summary>
    public ReconcilerState State { get; set; } = state;

    /// <summary>False when another agent holds the cluster's lease: then nothing is written to the cluster, status included.</summary>
    public bool OwnsCluster { get; set; }

    public SourceState? Sync { get; set; }

    /// <summary>The revision this pass works towards (the head, or the applied one when the head cannot be used).</summary>
    public string? Target { get; set; }

    /// <summary>A remark that explains why the target is not the head (offline, head failed before).</summary>
    public string? Note { get; set; }

    public RevisionVerdict? Trust { get; set; }

    public RenderedRevision? Render { get; set; }

    /// <summary>What the apply step applies: the rendered objects and the namespaces the agent creates for them.</summary>
    public IReadOnlyList<RenderedObject> Desired { get; set; } = [];

    public IReadOnlyList<string> Violations { get; set; } = [];

    public ChangeSet? Changes { get; set; }

    /// <summary>The upgrade this pass saw or moved (for the status report), if any.</summary>
    public Upgrades.UpgradeStatus? Upgrade { get; set; }

    /// <summary>Where this cluster stands in the rollout of the revision it was offered (wave, batch, verdict), if one was decided.</summary>
    public Status.RolloutPosition? Rollout { get; set; }

    /// <summary>Why the cluster keeps its applied revision although a newer one exists (a wave, batch or window not open yet), and until when.</summary>
    public (string Reason, DateTimeOffset? Until)? Hold { get; set; }

    /// <summary>Why the rollout made this pass take another revision than the head (an older one its wave may take, or a rollback out of a halt).</summary>
    public string? RolloutNote { get; set; }

    /// <summary>True when this pass takes the cluster back out of a halted rollout.</summary>
    public bool RollingBack { get; set; }

    /// <summary>Objects that failed while rolling back (the rollback did not complete).</summary>
    public ChangeSet? RollbackChanges { get; set; }

    /// <summary>True when the pass moves the cluster to another revision (a transaction), false when it keeps the applied one.</summary>
    public bool IsTransaction => Target is not null && Target != State.AppliedRevision;

    public void Save(ReconcilerState state)
    {
        State = state;
        state.Save(Options.StateDirectory);
    }

    public void Checkpoint(string name) => Options.Checkpoint?.Invoke(name);

    public static string Short(string? revision) => revision is null ? "nothing" : revision[..Math.Min(12, revision.Length)];
}

using System.Text.Json;
using EdgeOps.Reconciler.Serialization;
using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>What the reconciler remembers between passes and restarts, on local disk.</summary>
public sealed record ReconcilerState
{
    /// <summary>The last revision applied and found healthy: what the cluster runs.</summary>
    public string? AppliedRevision { get; init; }

    /// <summary>A revision that failed (validation, policy, apply or health); not retried until the repo moves past it.</summary>
    public string? FailedRevision { get; init; }

    /// <summary>The revision applied before <see cref="AppliedRevision"/>: where a halted rollout takes the cluster back to.</summary>
    public string? PreviousRevision { get; init; }

    public string? FailedReason { get; init; }

    /// <summary>Since when the repo could not be reached, or null when it could.</summary>
    public DateTimeOffset? OfflineSince { get; init; }

    public DateTimeOffset? LastSuccessfulSync { get; init; }

    public static ReconcilerState Load(string directory)
    {
        var path = Path.Combine(directory, "state.json");
        if (!File.Exists(path))
        {
            return new ReconcilerState();
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), StateJson.Default.ReconcilerState) ?? new ReconcilerState();
        }
        catch (JsonException ex)
        {
            throw DurableFile.Damaged("reconciler state", path, ex);
        }
    }

    public void Save(string directory) => DurableFile.WriteAllBytes(Path.Combine(directory, "state.json"), JsonSerializer.SerializeToUtf8Bytes(this, StateJson.Default.ReconcilerState));
}

using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeOps.Fleet.Model;
using EdgeOps.Reconciler.Serialization;
using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>Where an upgrade was when it was last recorded. Every phase is written before the step it names begins.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<UpgradePhase>))]
public enum UpgradePhase
{
    /// <summary>Fetching the artifact into the state folder (resumable).</summary>
    Downloading,

    /// <summary>Digest, size and Sigstore bundle checked; nothing written to a slot yet.</summary>
    Verified,

    /// <summary>Writing the inactive slot. A restart installs again: the slot is recorded before it is touched.</summary>
    Installing,

    /// <summary>The inactive slot holds the new version and is the bootloader's choice for the next boot only.</summary>
    Activated,

    /// <summary>A reboot has been asked of the host.</summary>
    Rebooting,

    /// <summary>Running the new slot on trial: health gate, then <c>commitAfter</c>.</summary>
    Trial,

    /// <summary>Marked bad; rebooting into the old slot.</summary>
    FallingBack,

    /// <summary>The new slot is marked good: the upgrade is done.</summary>
    Committed,

    /// <summary>The plan did not happen (refused, download failed) or fell back; the old version runs.</summary>
    Failed,
}

/// <summary>A health check as the journal keeps it, so the trial after a reboot needs neither the repo nor the network.</summary>
public sealed record UpgradeCheck(
    string Name,
    string Type,
    double TimeoutSeconds,
    string? Url = null,
    int ExpectStatus = 200,
    ImmutableArray<string> Command = default,
    bool NodeReady = false,
    bool WorkloadsHealthy = false)
{
    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public static UpgradeCheck From(HealthCheck check) => new(check.Name, check.Type, check.Timeout.TotalSeconds, check.Url, check.ExpectStatus,
        check.Command.IsDefault ? [] : check.Command, check.NodeReady, check.WorkloadsHealthy);
}

/// <summary>One upgrade transaction of one plan on this device: what, from where to where, and how far it got.</summary>
public sealed record UpgradeRecord
{
    public required string Plan { get; init; }

    /// <summary>The fleet revision that asked for it.</summary>
    public required string Revision { get; init; }

    public required string Component { get; init; }

    public string? FromVersion { get; init; }

    public required string ToVersion { get; init; }

    public required string Url { get; init; }

    public required string Digest { get; init; }

    public long? Size { get; init; }

    public long? MaxKbps { get; init; }

    public int Retries { get; init; } = 5;

    public required UpgradePhase Phase { get; init; }

    /// <summary>The slot that ran when the upgrade began, and the one it writes.</summary>
    public string? FromSlot { get; init; }

    public string? ToSlot { get; init; }

    public ImmutableArray<UpgradeCheck> HealthChecks { get; init; } = [];

    public double CommitAfterSeconds { get; init; }

    public DateTimeOffset Started { get; init; }

    /// <summary>When each phase was entered (for status and the figures).</summary>
    public ImmutableSortedDictionary<string, DateTimeOffset> PhaseTimes { get; init; } = ImmutableSortedDictionary<string, DateTimeOffset>.Empty;

    /// <summary>When every check of the gate first passed after the trial boot.</summary>
    public DateTimeOffset? HealthyAt { get; init; }

    /// <summary>Why it failed or fell back (the step, or the check that failed).</summary>
    public string? Reason { get; init; }

    /// <summary>True once the final outcome has been announced (an Event); a restart does not announce it again.</summary>
    public bool Reported { get; init; }

    public int RebootRequests { get; init; }

    [JsonIgnore]
    public bool IsOpen => Phase is not (UpgradePhase.Committed or UpgradePhase.Failed);

    public UpgradeRecord Enter(UpgradePhase phase, DateTimeOffset at, string? reason = null) => this with
    {
        Phase = phase,
        PhaseTimes = PhaseTimes.SetItem(phase.ToString(), at),
        Reason = reason ?? Reason,
    };
}

/// <summary>
/// The upgrade journal (<c>upgrade.json</c> in the state folder), written durably before each step like the
/// apply journal, so that after a crash, a reboot or a power cut the agent knows which slot holds what and
/// finishes the transaction: the device ends on the old version or the new one, never in between.
/// </summary>
public sealed class UpgradeJournal(string stateDirectory)
{
    public string Path { get; } = System.IO.Path.Combine(stateDirectory, "upgrade.json");

    public UpgradeRecord? Read()
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        try
        {
            var record = JsonSerializer.Deserialize(File.ReadAllText(Path), StateJson.Default.UpgradeRecord);
            return record is null ? null : record with
            {
                HealthChecks = record.HealthChecks.IsDefault ? [] : record.HealthChecks,
                PhaseTimes = record.PhaseTimes ?? ImmutableSortedDictionary<string, DateTimeOffset>.Empty,
            };
        }
        catch (JsonException ex)
        {
            throw DurableFile.Damaged("upgrade journal", Path, ex);
        }
    }

    public void Write(UpgradeRecord record) => DurableFile.WriteAllBytes(Path, JsonSerializer.SerializeToUtf8Bytes(record, StateJson.Default.UpgradeRecord));
}

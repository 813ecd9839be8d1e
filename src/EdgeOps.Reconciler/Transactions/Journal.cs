using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeOps.Reconciler.Serialization;

namespace EdgeOps.Reconciler.Transactions;

/// <summary>Where a transaction was when it was last recorded.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TransactionPhase>))]
public enum TransactionPhase
{
    /// <summary>Objects of the target revision are being applied.</summary>
    Applying,

    /// <summary>Everything applied; waiting for health.</summary>
    Applied,

    /// <summary>Going back to the previous revision.</summary>
    RollingBack,

    /// <summary>The target revision is healthy and is now the last good one.</summary>
    Committed,

    /// <summary>The previous revision is back; the target is recorded as failed.</summary>
    RolledBack,
}

/// <summary>What a restart must do about a journal it finds.</summary>
public enum RecoveryAction
{
    /// <summary>No transaction was open.</summary>
    None,

    /// <summary>Applied and healthy when the process died: check health again, then commit.</summary>
    FinishCommit,

    /// <summary>Died mid-apply or mid-rollback: return to the previous revision.</summary>
    RollBack,
}

/// <summary>One transaction: from which revision to which, and how far it got.</summary>
public sealed record JournalRecord(
    string TargetRevision,
    string? PreviousRevision,
    TransactionPhase Phase,
    DateTimeOffset Started,
    string? Reason = null);

/// <summary>
/// The transaction journal on local disk. Written before any change to the cluster and at each phase,
/// each time durably (flushed file, atomic rename, flushed folder), so that after a crash or power loss
/// the next start knows whether to finish the commit or roll back — the cluster ends with exactly the
/// old revision or the new one.
/// </summary>
public sealed class Journal(string stateDirectory)
{
    public string Path { get; } = System.IO.Path.Combine(stateDirectory, "journal.json");

    public JournalRecord? Read()
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(Path), StateJson.Default.JournalRecord);
        }
        catch (JsonException ex)
        {
            // Never half-written (writes are atomic), so this is outside damage: refuse to guess.
            throw DurableFile.Damaged("transaction journal", Path, ex);
        }
    }

    public void Write(JournalRecord record) => DurableFile.WriteAllBytes(Path, JsonSerializer.SerializeToUtf8Bytes(record, StateJson.Default.JournalRecord));

    /// <summary>What to do about the journal found at start.</summary>
    public static RecoveryAction Decide(JournalRecord? record) => record?.Phase switch
    {
        null or TransactionPhase.Committed or TransactionPhase.RolledBack => RecoveryAction.None,
        TransactionPhase.Applied => RecoveryAction.FinishCommit,
        _ => RecoveryAction.RollBack,
    };
}

using System.Collections.Immutable;
using System.Text.Json;
using EdgeOps.Reconciler.Serialization;
using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.SwitchOver;

/// <summary>Where a switch-over is; each step is recorded before it acts.</summary>
public enum SwitchStep
{
    /// <summary>The target slot is being created and pre-initialised; Services select the active slot.</summary>
    Creating,

    /// <summary>The active slot is releasing its exclusive devices (told, scaled to zero); the target takes them.</summary>
    Handoff,

    /// <summary>Services are being pointed at the target slot (pre-initialised, devices held).</summary>
    Switching,
}

/// <summary>A switch-over under way: to which slot, with which bodies (Deployment name → JSON), how far.</summary>
public sealed record PendingSwitch
{
    public required string To { get; init; }

    public required ImmutableSortedDictionary<string, string> Bodies { get; init; }

    public SwitchStep Step { get; init; }

    public DateTimeOffset Started { get; init; }

    public DateTimeOffset? PreInitializedAt { get; init; }

    public DateTimeOffset? HandoffStarted { get; init; }

    /// <summary>The active slot's pods are gone: the target may take the exclusive devices.</summary>
    public bool DevicesReleased { get; init; }

    public double? HandoffGapSeconds { get; init; }
}

/// <summary>One BlueGreen workload on this cluster: the active slot and what it runs, the slot Services select, a switch under way, the warm previous slot.</summary>
public sealed record SwitchOverRecord
{
    public const string Blue = "blue";
    public const string Green = "green";

    public required string Workload { get; init; }

    public string Active { get; init; } = Blue;

    /// <summary>The slot every Service of the workload selects; changed only by a journalled switch.</summary>
    public string Serving { get; init; } = Blue;

    public ImmutableSortedDictionary<string, string> ActiveBodies { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    public PendingSwitch? Pending { get; init; }

    /// <summary>The previous active slot's bodies, kept warm until <see cref="RetainUntil"/>, then scaled to zero.</summary>
    public ImmutableSortedDictionary<string, string>? RetainedBodies { get; init; }

    public DateTimeOffset? RetainUntil { get; init; }

    /// <summary>The last switch: pre-initialised to Services switched, and the exclusive-device handoff gap (seconds).</summary>
    public double? LastSwitchSeconds { get; init; }

    public double? LastHandoffGapSeconds { get; init; }

    public static string Other(string slot) => slot == Blue ? Green : Blue;
}

/// <summary>The switch-over records (<c>switchover.json</c> in the state folder), written durably at each step.</summary>
public sealed class SwitchOverStore(string stateDirectory)
{
    private readonly string _path = Path.Combine(stateDirectory, "switchover.json");
    private ImmutableSortedDictionary<string, SwitchOverRecord>? _records;

    public ImmutableSortedDictionary<string, SwitchOverRecord> Records => _records ??= Load();

    public SwitchOverRecord? Get(string workload) => Records.GetValueOrDefault(workload);

    public void Set(SwitchOverRecord record)
    {
        if (Get(record.Workload) == record)
        {
            return;
        }

        _records = Records.SetItem(record.Workload, record);
        DurableFile.WriteAllBytes(_path, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, SwitchOverRecord>(_records), StateJson.Default.DictionaryStringSwitchOverRecord));
    }

    /// <summary>Forgets what was read, so the next access reads the file again (after another process wrote it).</summary>
    public void Reload() => _records = null;

    private ImmutableSortedDictionary<string, SwitchOverRecord> Load()
    {
        if (!File.Exists(_path))
        {
            return ImmutableSortedDictionary<string, SwitchOverRecord>.Empty;
        }

        try
        {
            var map = JsonSerializer.Deserialize(File.ReadAllText(_path), StateJson.Default.DictionaryStringSwitchOverRecord) ?? [];
            return map.ToImmutableSortedDictionary(StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw DurableFile.Damaged("switch-over journal", _path, ex);
        }
    }
}

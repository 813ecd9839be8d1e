using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.Transactions;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Reconciler.Serialization;

// The agent's own files and ConfigMap payloads are written with source-generated serializers: no
// reflection at run time, so the NativeAOT build reads and writes exactly what the JIT build does.

/// <summary>Files in the state folder: the reconciler state and the transaction journal (camelCase, indented).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ReconcilerState))]
[JsonSerializable(typeof(JournalRecord))]
[JsonSerializable(typeof(UpgradeRecord))]
[JsonSerializable(typeof(Location.LocationState))]
[JsonSerializable(typeof(Dictionary<string, SwitchOver.SwitchOverRecord>))]
[JsonSerializable(typeof(ReportingState))]
internal sealed partial class StateJson : JsonSerializerContext;

/// <summary>The status report: status.json and the status ConfigMap (camelCase, indented, nulls left out).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StatusReport))]
internal sealed partial class StatusJson : JsonSerializerContext;

/// <summary>The inventory ConfigMap's payload (camelCase, compact).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(List<InventoryEntry>))]
internal sealed partial class InventoryJson : JsonSerializerContext;

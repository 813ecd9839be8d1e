using System.Globalization;
using System.Text;
using EdgeOps.Reconciler.Pipeline;

namespace EdgeOps.Reconciler.Hosting;

/// <summary>What the daemon has done, for /metrics (Prometheus text format) and /readyz.</summary>
public sealed class ReconcilerMetrics
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _passes = new(StringComparer.Ordinal);
    private long _objectsApplied;
    private long _failures;
    private double _lastDuration;
    private string? _revision;
    private bool _ready;

    public bool Ready
    {
        get
        {
            lock (_gate)
            {
                return _ready;
            }
        }
    }

    public void Record(PassResult result)
    {
        lock (_gate)
        {
            var outcome = result.Outcome.ToString().ToLowerInvariant();
            _passes[outcome] = _passes.GetValueOrDefault(outcome) + 1;
            _objectsApplied += result.Report.Counts.GetValueOrDefault("created") + result.Report.Counts.GetValueOrDefault("configured");
            _lastDuration = result.Report.DurationSeconds;
            _revision = result.AppliedRevision;
            _ready = result.AppliedRevision is not null;
            if (!result.Succeeded)
            {
                _failures++;
            }
        }
    }

    public void RecordFailure()
    {
        lock (_gate)
        {
            _failures++;
            _passes["error"] = _passes.GetValueOrDefault("error") + 1;
        }
    }

    public string Render()
    {
        lock (_gate)
        {
            var text = new StringBuilder();
            text.AppendLine("# HELP edgeops_reconcile_passes_total Reconcile passes by outcome.");
            text.AppendLine("# TYPE edgeops_reconcile_passes_total counter");
            foreach (var (outcome, count) in _passes.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"edgeops_reconcile_passes_total{{outcome=\"{outcome}\"}} {count}");
            }

            text.AppendLine("# HELP edgeops_reconcile_failures_total Passes that did not end with the desired revision running.");
            text.AppendLine("# TYPE edgeops_reconcile_failures_total counter");
            text.AppendLine(CultureInfo.InvariantCulture, $"edgeops_reconcile_failures_total {_failures}");
            text.AppendLine("# HELP edgeops_objects_applied_total Objects created or configured.");
            text.AppendLine("# TYPE edgeops_objects_applied_total counter");
            text.AppendLine(CultureInfo.InvariantCulture, $"edgeops_objects_applied_total {_objectsApplied}");
            text.AppendLine("# HELP edgeops_reconcile_duration_seconds Duration of the last pass.");
            text.AppendLine("# TYPE edgeops_reconcile_duration_seconds gauge");
            text.AppendLine(CultureInfo.InvariantCulture, $"edgeops_reconcile_duration_seconds {_lastDuration:0.###}");
            text.AppendLine("# HELP edgeops_revision_info The applied revision.");
            text.AppendLine("# TYPE edgeops_revision_info gauge");
            text.AppendLine(CultureInfo.InvariantCulture, $"edgeops_revision_info{{revision=\"{_revision ?? string.Empty}\"}} 1");
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            text.AppendLine("# HELP process_resident_memory_bytes Resident memory size in bytes.");
            text.AppendLine("# TYPE process_resident_memory_bytes gauge");
            text.AppendLine(CultureInfo.InvariantCulture, $"process_resident_memory_bytes {process.WorkingSet64}");
            text.AppendLine("# HELP dotnet_gc_heap_bytes Bytes in the managed heap after the last collection.");
            text.AppendLine("# TYPE dotnet_gc_heap_bytes gauge");
            text.AppendLine(CultureInfo.InvariantCulture, $"dotnet_gc_heap_bytes {GC.GetGCMemoryInfo().HeapSizeBytes}");
            return text.ToString();
        }
    }
}

using EdgeOps.Reconciler.Pipeline;
using Prometheus;

namespace EdgeOps.Reconciler.Status;

/// <summary>
/// What the agent has done, for /metrics (Prometheus text exposition, written by prometheus-net) and
/// /readyz. Every pass records itself here, whatever its outcome, from the one place that ends a pass.
/// </summary>
public sealed class ReconcilerMetrics
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly Counter _passes;
    private readonly Counter _objects;
    private readonly Histogram _duration;
    private readonly Gauge _lastSuccess;
    private readonly Gauge _offlineSince;
    private readonly Gauge _revision;
    private readonly Gauge _failedObjects;
    private readonly Gauge _residentMemory;
    private readonly Gauge _heap;
    private readonly Lock _gate = new();
    private string? _revisionLabel;
    private volatile bool _ready;
    private volatile string _readiness = "no pass has finished yet";

    public ReconcilerMetrics()
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(_registry);
        _passes = factory.CreateCounter("edgeops_reconcile_passes_total", "Reconcile passes by outcome.", "outcome");
        _objects = factory.CreateCounter("edgeops_objects_total", "Objects handled by passes, by what happened to them.", "action");
        _duration = factory.CreateHistogram("edgeops_reconcile_duration_seconds", "Duration of reconcile passes.",
            new HistogramConfiguration { Buckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] });
        _lastSuccess = factory.CreateGauge("edgeops_last_successful_pass_timestamp_seconds", "When a pass last ended with the desired revision running (Unix time).");
        _offlineSince = factory.CreateGauge("edgeops_offline_since_timestamp_seconds", "Since when the fleet repo cannot be reached (Unix time); 0 when online.");
        _revision = factory.CreateGauge("edgeops_revision_info", "The applied revision.", "revision");
        _failedObjects = factory.CreateGauge("edgeops_failed_objects", "Objects that failed in the last pass.");
        _residentMemory = factory.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        _heap = factory.CreateGauge("dotnet_gc_heap_bytes", "Bytes in the managed heap after the last collection.");
        _registry.AddBeforeCollectCallback(() =>
        {
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            _residentMemory.Set(process.WorkingSet64);
            _heap.Set(GC.GetGCMemoryInfo().HeapSizeBytes);
        });
    }

    /// <summary>Ready once a revision runs and the last pass did not leave the agent unable to act.</summary>
    public bool Ready => _ready;

    /// <summary>Why the agent is (not) ready, for /readyz.</summary>
    public string Readiness => _readiness;

    public void Record(PassResult result)
    {
        var report = result.Report;
        _passes.WithLabels(result.Outcome.ToString().ToLowerInvariant()).Inc();
        foreach (var (action, count) in report.Counts)
        {
            if (count > 0)
            {
                _objects.WithLabels(action).Inc(count);
            }
        }

        _duration.Observe(report.DurationSeconds);
        _failedObjects.Set(report.FailedObjects.Length);
        if (result.Succeeded)
        {
            _lastSuccess.Set(report.Time.ToUnixTimeMilliseconds() / 1000.0);
        }

        _offlineSince.Set(report.OfflineSince is { } since ? since.ToUnixTimeMilliseconds() / 1000.0 : 0);
        lock (_gate)
        {
            if (_revisionLabel != result.AppliedRevision)
            {
                if (_revisionLabel is not null)
                {
                    _revision.RemoveLabelled(_revisionLabel);
                }

                _revisionLabel = result.AppliedRevision;
                if (_revisionLabel is not null)
                {
                    _revision.WithLabels(_revisionLabel).Set(1);
                }
            }
        }

        _ready = result.AppliedRevision is not null;
        _readiness = $"{report.Outcome}: {report.Message}";
    }

    public async Task WriteAsync(Stream destination, CancellationToken cancellationToken) =>
        await _registry.CollectAndExportAsTextAsync(destination, cancellationToken).ConfigureAwait(false);
}

using System.Collections.Immutable;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Health;

public enum HealthStatus
{
    Healthy,
    Progressing,
    Failed,
}

public sealed record ObjectHealth(ObjectIdentity Id, HealthStatus Status, string Reason);

public sealed record HealthReport(ImmutableArray<ObjectHealth> Objects)
{
    public bool Healthy => Objects.All(o => o.Status == HealthStatus.Healthy);

    /// <summary>The first object that is not healthy, for the one-line reason.</summary>
    public ObjectHealth? Culprit => Objects.FirstOrDefault(o => o.Status == HealthStatus.Failed) ?? Objects.FirstOrDefault(o => o.Status != HealthStatus.Healthy);
}

/// <summary>
/// Waits for applied objects to become ready: Deployments, StatefulSets and DaemonSets rolled out
/// and available, Jobs complete, CRDs established, custom resources with a Ready condition True.
/// Other kinds are ready once they exist. A Job that failed or a Ready condition False with a
/// terminal reason fails at once; anything still progressing at the timeout fails with its reason.
/// </summary>
public sealed class HealthChecker(KubeApi api, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<HealthReport> WaitAsync(IReadOnlyList<ObjectIdentity> objects, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _clock.GetUtcNow() + timeout;
        while (true)
        {
            var report = await CheckAsync(objects, cancellationToken).ConfigureAwait(false);
            if (report.Healthy || report.Objects.Any(o => o.Status == HealthStatus.Failed) || _clock.GetUtcNow() >= deadline)
            {
                if (!report.Healthy && report.Objects.All(o => o.Status != HealthStatus.Failed))
                {
                    var timedOut = report.Objects.Select(o => o.Status == HealthStatus.Progressing
                        ? o with { Status = HealthStatus.Failed, Reason = $"not ready within {DurationParser.Format(timeout)}: {o.Reason}" }
                        : o);
                    return new HealthReport([.. timedOut]);
                }

                return report;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), _clock, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<HealthReport> CheckAsync(IReadOnlyList<ObjectIdentity> objects, CancellationToken cancellationToken)
    {
        var results = ImmutableArray.CreateBuilder<ObjectHealth>(objects.Count);
        foreach (var id in objects)
        {
            var resource = await api.ResolveAsync(id.ApiVersion, id.Kind, cancellationToken).ConfigureAwait(false);
            var live = resource is null ? null : await api.GetAsync(resource, resource.Namespaced ? id.Namespace ?? "default" : null, id.Name, cancellationToken).ConfigureAwait(false);
            var (status, reason) = live is null ? (HealthStatus.Progressing, "not found") : Assess(id, live);
            results.Add(new ObjectHealth(id, status, reason));
        }

        return new HealthReport(results.MoveToImmutable());
    }

    public static (HealthStatus Status, string Reason) Assess(ObjectIdentity id, JsonObject live)
    {
        var spec = live["spec"];
        var status = live["status"];
        long Int(JsonNode? node, string key, long fallback = 0) => node is JsonObject o && o[key] is JsonValue v && v.TryGetValue<long>(out var n) ? n : fallback;
        var generation = Int(live["metadata"], "generation");
        var observed = Int(status, "observedGeneration", -1);
        switch (id.Kind)
        {
            case "Deployment" when id.Group == "apps":
                {
                    var want = Int(spec, "replicas", 1);
                    if (Condition(live, "Progressing") == "False" && ConditionReason(live, "Progressing") == "ProgressDeadlineExceeded")
                    {
                        return (HealthStatus.Failed, "progress deadline exceeded");
                    }

                    return observed >= generation && Int(status, "updatedReplicas") >= want && Int(status, "availableReplicas") >= want && Int(status, "replicas") <= want
                        ? (HealthStatus.Healthy, "available")
                        : (HealthStatus.Progressing, $"{Int(status, "availableReplicas")}/{want} replicas available");
                }

            case "StatefulSet" when id.Group == "apps":
                {
                    var want = Int(spec, "replicas", 1);
                    var current = status?["currentRevision"]?.ToString();
                    var update = status?["updateRevision"]?.ToString();
                    return observed >= generation && Int(status, "readyReplicas") >= want && (update is null || current == update)
                        ? (HealthStatus.Healthy, "ready")
                        : (HealthStatus.Progressing, $"{Int(status, "readyReplicas")}/{want} replicas ready");
                }

            case "DaemonSet" when id.Group == "apps":
                {
                    var want = Int(status, "desiredNumberScheduled");
                    return observed >= generation && Int(status, "updatedNumberScheduled") >= want && Int(status, "numberAvailable") >= want
                        ? (HealthStatus.Healthy, "available")
                        : (HealthStatus.Progressing, $"{Int(status, "numberAvailable")}/{want} pods available");
                }

            case "Job" when id.Group == "batch":
                if (Condition(live, "Failed") == "True")
                {
                    return (HealthStatus.Failed, $"job failed: {ConditionMessage(live, "Failed") ?? ConditionReason(live, "Failed")}");
                }

                return Condition(live, "Complete") == "True" ? (HealthStatus.Healthy, "complete") : (HealthStatus.Progressing, "running");
            case "CustomResourceDefinition":
                return Condition(live, "Established") == "True" ? (HealthStatus.Healthy, "established") : (HealthStatus.Progressing, "not established");
            default:
                var ready = Condition(live, "Ready");
                return ready switch
                {
                    null => (HealthStatus.Healthy, "exists"),
                    "True" => (HealthStatus.Healthy, "ready"),
                    _ => (HealthStatus.Progressing, $"Ready={ready}: {ConditionMessage(live, "Ready") ?? ConditionReason(live, "Ready")}"),
                };
        }
    }

    internal static string? Condition(JsonNode? live, string type) => FindCondition(live, type)?["status"]?.ToString();

    private static string? ConditionReason(JsonNode? live, string type) => FindCondition(live, type)?["reason"]?.ToString();

    private static string? ConditionMessage(JsonNode? live, string type) => FindCondition(live, type)?["message"]?.ToString();

    /// <summary>
    /// The condition of that type, if the object has a list of them. A custom resource's status may have any shape (a
    /// string, a list, conditions that are not objects): what is not a condition is no condition, never an error.
    /// </summary>
    private static JsonObject? FindCondition(JsonNode? live, string type) =>
        ((live as JsonObject)?["status"] as JsonObject)?["conditions"] is JsonArray conditions
            ? conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"] is JsonValue t && t.GetValueKind() == System.Text.Json.JsonValueKind.String && t.GetValue<string>() == type)
            : null;
}

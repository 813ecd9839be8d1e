using System.Globalization;
using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Status;

/// <summary>
/// The report in the cluster: ConfigMap <c>edgeops-status</c> in the agent's namespace, written only
/// when something other than timing changed (an idle pass writes nothing), and Kubernetes Events on
/// that ConfigMap for transitions — applied, drift corrected, rolled back, refused, invalid, failed,
/// offline — as Flux's controllers emit them. Best effort: the file report stands when the API server
/// cannot be reached, and the next pass publishes again.
/// </summary>
public sealed class StatusPublisher(KubeApi api, string ns, string instance)
{
    public const string ConfigMapName = "edgeops-status";
    public const string Component = "edgeops-reconciler";

    /// <summary>The largest status.json written into the ConfigMap; a larger report is abridged (ConfigMaps hold 1 MiB, and every write of one goes to etcd).</summary>
    public const int MaxConfigMapReportChars = 256 * 1024;

    /// <summary>How many failed objects, violations and drifts an abridged report keeps.</summary>
    public const int AbridgedItems = 50;

    private string? _published;
    private StatusReport? _last;

    /// <summary>The report of the agent's previous run (read from its state folder), so that a restart does not repeat its events.</summary>
    public void Seed(StatusReport? previous) => _last ??= previous;

    public async Task PublishAsync(StatusReport report, CancellationToken cancellationToken)
    {
        var previous = _last;
        _last = report;
        try
        {
            await WriteConfigMapAsync(report, cancellationToken).ConfigureAwait(false);
            foreach (var (type, reason, message) in Transitions(previous, report))
            {
                await EmitAsync(type, reason, message, report.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (KubeUnavailableException)
        {
            _published = null; // try again next pass
        }
    }

    /// <summary>The events a report deserves, given the one before it (null at start).</summary>
    public static IEnumerable<(string Type, string Reason, string Message)> Transitions(StatusReport? previous, StatusReport report)
    {
        if (report.DriftCorrected.Length > 0)
        {
            yield return ("Normal", "DriftCorrected", Limit(string.Join("; ", report.DriftCorrected)));
        }

        var changed = previous is null || previous.Outcome != report.Outcome || previous.LastAttemptedRevision != report.LastAttemptedRevision
            || previous.AppliedRevision != report.AppliedRevision;
        switch (report.Outcome)
        {
            case "Applied":
                yield return ("Normal", "Applied", Limit(report.Message));
                break;
            case "RolledBack":
                yield return ("Warning", "RolledBack", Limit(report.Message));
                break;
            case "Refused" or "Invalid" when changed:
                yield return ("Warning", report.Outcome == "Refused" ? "Refused" : "Invalid", Limit(report.Message));
                break;
            case "Failed" when changed || previous!.Message != report.Message:
                yield return ("Warning", "Failed", Limit(report.Message));
                break;
            case "Offline" when changed:
                yield return ("Warning", "Offline", Limit(report.Message));
                break;
        }

        if (report.OfflineSince is not null && previous?.OfflineSince is null && report.Outcome != "Offline")
        {
            yield return ("Warning", "Offline", Limit(report.Message));
        }
    }

    /// <summary>
    /// Creates an Event under a fixed name, so that announcing the same thing again (after a crash between the
    /// event and the record of it) finds it already there. True once the event exists.
    /// </summary>
    public async Task<bool> AnnounceOnceAsync(string name, string type, string reason, string message, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var at = time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var body = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["involvedObject"] = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["namespace"] = ns, ["name"] = ConfigMapName },
            ["type"] = type,
            ["reason"] = reason,
            ["message"] = Limit(message),
            ["source"] = new JsonObject { ["component"] = Component },
            ["reportingComponent"] = "edgeops.io/reconciler",
            ["reportingInstance"] = Limit(instance, 128),
            ["firstTimestamp"] = at,
            ["lastTimestamp"] = at,
            ["count"] = 1,
        };
        try
        {
            var response = await api.RawAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/events", body.ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
            return response.IsSuccess || response.Status == System.Net.HttpStatusCode.Conflict;
        }
        catch (KubeUnavailableException)
        {
            return false; // announced on a later pass
        }
    }

    private async Task WriteConfigMapAsync(StatusReport report, CancellationToken cancellationToken)
    {
        var signature = (report with { Time = default, DurationSeconds = 0, LastSuccessfulSync = null }).ToJson();
        if (signature == _published)
        {
            return;
        }

        var configMaps = await api.ResolveAsync("v1", "ConfigMap", cancellationToken).ConfigureAwait(false)
            ?? throw new KubeUnavailableException("the API server does not serve ConfigMaps");
        var body = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = ConfigMapName, ["namespace"] = ns },
            ["data"] = new JsonObject { ["status.json"] = Fitted(report), ["appliedRevision"] = report.AppliedRevision ?? string.Empty, ["outcome"] = report.Outcome },
        };
        var response = await api.ApplyAsync(configMaps, ns, ConfigMapName, body.ToJsonString(), ConfigMapName, force: true, cancellationToken).ConfigureAwait(false);
        _published = response.IsSuccess ? signature : null;
    }

    /// <summary>The report as the ConfigMap holds it: whole, or abridged when it is larger than <see cref="MaxConfigMapReportChars"/>.</summary>
    internal static string Fitted(StatusReport report)
    {
        var json = report.ToJson();
        return json.Length <= MaxConfigMapReportChars ? json : report.Abridge(AbridgedItems).ToJson();
    }

    private async Task EmitAsync(string type, string reason, string message, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var at = time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var body = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["generateName"] = ConfigMapName + ".", ["namespace"] = ns },
            ["involvedObject"] = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["namespace"] = ns, ["name"] = ConfigMapName },
            ["type"] = type,
            ["reason"] = reason,
            ["message"] = message,
            ["source"] = new JsonObject { ["component"] = Component },
            ["reportingComponent"] = "edgeops.io/reconciler",
            ["reportingInstance"] = Limit(instance, 128),
            ["firstTimestamp"] = at,
            ["lastTimestamp"] = at,
            ["count"] = 1,
        };
        await api.RawAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/events", body.ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
    }

    private static string Limit(string text, int max = 1024) => text.Length <= max ? text : text[..(max - 1)] + "…";
}

using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>
/// One reconciler per cluster, whatever host it runs on: a coordination.k8s.io Lease in the
/// reconciler's namespace, taken before a pass changes anything and renewed once half its duration has
/// passed (so most idle passes write nothing). Another
/// holder's unexpired lease stops the pass; an expired one (its holder died) is taken over. Updates
/// carry the resourceVersion read, so two reconcilers racing for the lease cannot both win.
/// </summary>
public sealed class ClusterLease(KubeApi api, string ns, string holder, TimeSpan duration, TimeProvider clock)
{
    private const string Name = "edgeops-reconciler";

    /// <summary>Null when the lease is ours now; otherwise who holds it.</summary>
    public async Task<string?> AcquireAsync(CancellationToken cancellationToken)
    {
        var leases = await api.ResolveAsync("coordination.k8s.io/v1", "Lease", cancellationToken).ConfigureAwait(false)
            ?? throw new KubeUnavailableException("the API server does not serve coordination.k8s.io/v1 Leases");
        var namespaces = await api.ResolveAsync("v1", "Namespace", cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        var live = await api.GetAsync(leases, ns, Name, cancellationToken).ConfigureAwait(false);
        if (live is null)
        {
            if (namespaces is not null)
            {
                var body = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } };
                await api.ApplyAsync(namespaces, null, ns, body.ToJsonString(), "edgeops", force: false, cancellationToken).ConfigureAwait(false);
            }

            var created = await api.RawAsync(HttpMethod.Post, leases.Path(ns, null), Lease(null, now, now).ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
            return created.IsSuccess ? null : created.Status == HttpStatusCode.Conflict ? await AcquireAsync(cancellationToken).ConfigureAwait(false) : $"cannot create the lease: {created.Message}";
        }

        var spec = live["spec"];
        var current = spec?["holderIdentity"]?.ToString();
        var renewed = DateTimeOffset.TryParse(spec?["renewTime"]?.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var r) ? r : DateTimeOffset.MinValue;
        var seconds = spec?["leaseDurationSeconds"] is JsonValue v && v.TryGetValue<int>(out var s) ? s : (int)duration.TotalSeconds;
        if (current is not null && current != holder && renewed.AddSeconds(seconds) > now)
        {
            return current;
        }

        if (current == holder && renewed.AddSeconds(seconds / 2.0) > now)
        {
            return null; // ours, and fresh enough: an idle pass writes nothing
        }

        var acquired = current == holder && spec?["acquireTime"]?.ToString() is { } a && DateTimeOffset.TryParse(a, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : now;
        var update = Lease(live["metadata"]?["resourceVersion"]?.ToString(), acquired, now);
        var response = await api.RawAsync(HttpMethod.Put, leases.Path(ns, Name), update.ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
        return response.IsSuccess ? null : response.Status == HttpStatusCode.Conflict ? "another reconciler (it renewed the lease at the same moment)" : $"cannot renew the lease: {response.Message}";
    }

    private JsonObject Lease(string? resourceVersion, DateTimeOffset acquired, DateTimeOffset renewed)
    {
        var metadata = new JsonObject { ["name"] = Name, ["namespace"] = ns };
        if (resourceVersion is not null)
        {
            metadata["resourceVersion"] = resourceVersion;
        }

        return new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject
            {
                ["holderIdentity"] = holder,
                ["leaseDurationSeconds"] = (int)Math.Ceiling(duration.TotalSeconds),
                ["acquireTime"] = acquired.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture),
                ["renewTime"] = renewed.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture),
            },
        };
    }
}

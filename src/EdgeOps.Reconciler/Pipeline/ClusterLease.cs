using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>The answer to "may this agent manage the cluster now?".</summary>
/// <param name="Holder">Who holds the lease when it is not ours (display form).</param>
/// <param name="Error">Why the lease could not be read or written (RBAC, API errors).</param>
public sealed record LeaseResult(bool Acquired, string? Holder = null, string? Error = null)
{
    public static readonly LeaseResult Ours = new(true);
}

/// <summary>
/// One agent per cluster, whatever host or pod it runs in: a coordination.k8s.io Lease in the agent's
/// namespace. The holder identity is the cluster and the agent's install (an ID kept in its state
/// folder), so a pod replaced on the same volume takes over at once; the pod or host name is shown
/// beside it. The lease lasts about two sync intervals and is renewed by every pass that finds a
/// quarter of it gone (back-to-back passes write nothing), and released when the agent stops cleanly,
/// so a replacement with another identity takes over on its first pass — or, after a crash, once the
/// lease has run out. Updates carry the resourceVersion read, so two agents racing cannot both win.
/// </summary>
public sealed class ClusterLease(KubeApi api, string ns, string holder, string display, TimeSpan duration, TimeProvider clock)
{
    public const string Name = "edgeops-reconciler";
    public const string HolderDisplayAnnotation = "edgeops.io/holder-display";

    private bool _held;

    public string Holder => holder;

    public async Task<LeaseResult> AcquireAsync(CancellationToken cancellationToken)
    {
        var leases = await api.ResolveAsync("coordination.k8s.io/v1", "Lease", cancellationToken).ConfigureAwait(false)
            ?? throw new KubeUnavailableException("the API server does not serve coordination.k8s.io/v1 Leases");
        var now = clock.GetUtcNow();
        var read = await api.RawAsync(HttpMethod.Get, leases.Path(ns, Name), null, null, cancellationToken).ConfigureAwait(false);
        if (read.Status == HttpStatusCode.NotFound)
        {
            await EnsureNamespaceAsync(cancellationToken).ConfigureAwait(false);
            var created = await api.RawAsync(HttpMethod.Post, leases.Path(ns, null), Lease(null, now, now).ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
            if (created.IsSuccess)
            {
                _held = true;
                return LeaseResult.Ours;
            }

            return created.Status == HttpStatusCode.Conflict
                ? await AcquireAsync(cancellationToken).ConfigureAwait(false)
                : new LeaseResult(false, Error: $"cannot create the lease {ns}/{Name}: {created.Reason}: {created.Message}");
        }

        if (!read.IsSuccess || read.Body is not JsonObject live)
        {
            return new LeaseResult(false, Error: $"cannot read the lease {ns}/{Name}: {read.Reason}: {read.Message}");
        }

        var spec = live["spec"];
        var current = spec?["holderIdentity"]?.ToString();
        var renewed = DateTimeOffset.TryParse(spec?["renewTime"]?.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var r) ? r : DateTimeOffset.MinValue;
        var seconds = spec?["leaseDurationSeconds"] is JsonValue v && v.TryGetValue<int>(out var s) ? s : (int)duration.TotalSeconds;
        if (!string.IsNullOrEmpty(current) && current != holder && renewed.AddSeconds(seconds) > now)
        {
            var shown = live["metadata"]?["annotations"]?[HolderDisplayAnnotation]?.ToString();
            return new LeaseResult(false, Holder: shown is null ? current : $"{current} ({shown})");
        }

        if (current == holder && renewed.Add(duration / 4) > now && seconds == (int)Math.Ceiling(duration.TotalSeconds))
        {
            _held = true;
            return LeaseResult.Ours; // ours, and fresh: back-to-back passes write nothing
        }

        var acquired = current == holder && spec?["acquireTime"]?.ToString() is { } a && DateTimeOffset.TryParse(a, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : now;
        var update = Lease(live["metadata"]?["resourceVersion"]?.ToString(), acquired, now);
        var response = await api.RawAsync(HttpMethod.Put, leases.Path(ns, Name), update.ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
        if (response.IsSuccess)
        {
            _held = true;
            return LeaseResult.Ours;
        }

        return response.Status == HttpStatusCode.Conflict
            ? new LeaseResult(false, Holder: "another agent (it renewed the lease at the same moment)")
            : new LeaseResult(false, Error: $"cannot renew the lease {ns}/{Name}: {response.Reason}: {response.Message}");
    }

    /// <summary>Gives the lease up (a clean stop), so that a replacement takes over at once. Best effort.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (!_held)
        {
            return;
        }

        try
        {
            var leases = await api.ResolveAsync("coordination.k8s.io/v1", "Lease", cancellationToken).ConfigureAwait(false);
            var live = leases is null ? null : await api.GetAsync(leases, ns, Name, cancellationToken).ConfigureAwait(false);
            if (leases is null || live?["spec"]?["holderIdentity"]?.ToString() != holder)
            {
                return;
            }

            var released = Lease(live["metadata"]?["resourceVersion"]?.ToString(), clock.GetUtcNow(), clock.GetUtcNow());
            var spec = released["spec"]!.AsObject();
            spec.Remove("holderIdentity");
            spec.Remove("acquireTime");
            await api.RawAsync(HttpMethod.Put, leases.Path(ns, Name), released.ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
            _held = false;
        }
        catch (KubeUnavailableException)
        {
            // The lease then runs out by itself.
        }
    }

    private async Task EnsureNamespaceAsync(CancellationToken cancellationToken)
    {
        var namespaces = await api.ResolveAsync("v1", "Namespace", cancellationToken).ConfigureAwait(false);
        if (namespaces is not null && await api.GetAsync(namespaces, null, ns, cancellationToken).ConfigureAwait(false) is null)
        {
            var body = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } };
            await api.ApplyAsync(namespaces, null, ns, body.ToJsonString(), "edgeops", force: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private JsonObject Lease(string? resourceVersion, DateTimeOffset acquired, DateTimeOffset renewed)
    {
        var metadata = new JsonObject
        {
            ["name"] = Name,
            ["namespace"] = ns,
            ["annotations"] = new JsonObject { [HolderDisplayAnnotation] = display },
        };
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
                ["acquireTime"] = Time(acquired),
                ["renewTime"] = Time(renewed),
            },
        };
    }

    private static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);

    /// <summary>The install's identity: an ID made once and kept in the state folder, so it survives pod replacement on the same volume.</summary>
    public static string InstallId(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, "install-id");
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: 32 } known && known.All(char.IsAsciiHexDigitLower))
        {
            return known;
        }

        var id = Guid.NewGuid().ToString("N");
        Transactions.DurableFile.WriteAllBytes(path, System.Text.Encoding.ASCII.GetBytes(id + "\n"));
        return id;
    }
}

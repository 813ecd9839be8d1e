using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace EdgeOps.Reconciler.Kube;

public sealed record KubeApiOptions
{
    /// <summary>Attempts per request for transient failures (connection errors, 429, 5xx).</summary>
    public int MaxAttempts { get; init; } = 6;

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock retries wait on (tests move it by hand).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// The Kubernetes API as the apply engine needs it: discovery (kind → resource), server-side apply,
/// get, list and delete of objects of any kind, custom resources included, as plain JSON over one
/// HTTP client made from a <see cref="KubeConnection"/> (no typed client: the agent handles objects of
/// every kind alike). Every request is idempotent, so transient failures (dropped connections, 429
/// with Retry-After, 5xx) are retried with backoff.
/// </summary>
public sealed class KubeApi : IDisposable
{
    private const string ApplyPatch = "application/apply-patch+yaml";

    private readonly KubeConnection _connection;
    private readonly HttpClient _http;
    private readonly KubeApiOptions _options;
    private readonly ConcurrentDictionary<(string ApiVersion, string Kind), ApiResource> _resources = new();
    private readonly SemaphoreSlim _discovery = new(1, 1);
    private long _requests;
    private long _writes;

    public KubeApi(KubeConnection connection, KubeApiOptions? options = null)
    {
        _connection = connection;
        _options = options ?? new KubeApiOptions();
        // Each request has its own deadline (RequestTimeout), so the client's own stays out of the way.
        _http = new HttpClient(connection.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("edgeops", typeof(KubeApi).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    /// <summary>Requests sent (each retry counts), and of those the ones that change state.</summary>
    public (long Requests, long Writes) Counters => (Interlocked.Read(ref _requests), Interlocked.Read(ref _writes));

    /// <summary>Finds the resource serving <paramref name="apiVersion"/>/<paramref name="kind"/>, refreshing discovery on a miss (a CRD may just have been created).</summary>
    public async Task<ApiResource?> ResolveAsync(string apiVersion, string kind, CancellationToken cancellationToken)
    {
        if (_resources.TryGetValue((apiVersion, kind), out var known))
        {
            return known;
        }

        await _discovery.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_resources.TryGetValue((apiVersion, kind), out known))
            {
                return known;
            }

            await DiscoverAsync(apiVersion, cancellationToken).ConfigureAwait(false);
            return _resources.GetValueOrDefault((apiVersion, kind));
        }
        finally
        {
            _discovery.Release();
        }
    }

    public Task<KubeResponse> ApplyAsync(ApiResource resource, string? ns, string name, string json, string fieldManager, bool force, CancellationToken cancellationToken)
    {
        var query = $"?fieldManager={Uri.EscapeDataString(fieldManager)}{(force ? "&force=true" : string.Empty)}";
        return SendAsync(HttpMethod.Patch, resource.Path(ns, name) + query, json, ApplyPatch, cancellationToken);
    }

    public async Task<JsonObject?> GetAsync(ApiResource resource, string? ns, string name, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, resource.Path(ns, name), null, null, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.NotFound)
        {
            return null;
        }

        EnsureSuccess(response, $"get {resource.Kind} {name}");
        return response.Body as JsonObject;
    }

    public async Task<IReadOnlyList<JsonObject>> ListAsync(ApiResource resource, string? ns, string? labelSelector, CancellationToken cancellationToken)
    {
        var query = labelSelector is null ? string.Empty : "?labelSelector=" + Uri.EscapeDataString(labelSelector);
        var response = await SendAsync(HttpMethod.Get, resource.Path(ns, null) + query, null, null, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, $"list {resource.Plural}");
        return response.Body?["items"] is JsonArray items ? [.. items.OfType<JsonObject>()] : [];
    }

    /// <summary>Deletes an object (background propagation); false when it was already gone.</summary>
    public async Task<KubeResponse> DeleteAsync(ApiResource resource, string? ns, string name, CancellationToken cancellationToken)
    {
        const string Body = """{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}""";
        return await SendAsync(HttpMethod.Delete, resource.Path(ns, name), Body, "application/json", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes an object's status subresource (tests stand in for the kubelet with it).</summary>
    public Task<KubeResponse> PatchStatusAsync(ApiResource resource, string? ns, string name, string mergePatch, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Patch, resource.Path(ns, name) + "/status", mergePatch, "application/merge-patch+json", cancellationToken);

    public Task<KubeResponse> RawAsync(HttpMethod method, string path, string? body, string? contentType, CancellationToken cancellationToken) =>
        SendAsync(method, path, body, contentType, cancellationToken);

    public void Dispose()
    {
        _http.Dispose();
        _discovery.Dispose();
    }

    internal static void EnsureSuccess(KubeResponse response, string what)
    {
        if (!response.IsSuccess)
        {
            throw new KubeUnavailableException($"{what}: {response.Reason}: {response.Message}");
        }
    }

    /// <summary>Every namespaced kind the server serves that can be listed (preferred version of each group).</summary>
    public async Task<IReadOnlyList<ApiResource>> NamespacedResourcesAsync(CancellationToken cancellationToken)
    {
        var versions = new List<string> { "v1" };
        var groups = await SendAsync(HttpMethod.Get, "/apis", null, null, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(groups, "discover API groups");
        foreach (var group in groups.Body?["groups"]?.AsArray() ?? [])
        {
            if (group?["preferredVersion"]?["groupVersion"]?.GetValue<string>() is { } preferred)
            {
                versions.Add(preferred);
            }
        }

        var resources = new List<ApiResource>();
        foreach (var version in versions)
        {
            var path = version.Contains('/', StringComparison.Ordinal) ? $"/apis/{version}" : $"/api/{version}";
            var response = await SendAsync(HttpMethod.Get, path, null, null, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccess)
            {
                continue; // an aggregated API that is down: nothing to list there
            }

            var slash = version.IndexOf('/', StringComparison.Ordinal);
            foreach (var item in response.Body?["resources"]?.AsArray() ?? [])
            {
                var name = item?["name"]?.GetValue<string>();
                var kind = item?["kind"]?.GetValue<string>();
                var verbs = item?["verbs"]?.AsArray().Select(v => v?.GetValue<string>()).ToList() ?? [];
                if (name is null || kind is null || name.Contains('/', StringComparison.Ordinal) || item!["namespaced"]?.GetValue<bool>() != true || !verbs.Contains("list"))
                {
                    continue;
                }

                resources.Add(new ApiResource(slash < 0 ? string.Empty : version[..slash], slash < 0 ? version : version[(slash + 1)..], kind, name, Namespaced: true));
            }
        }

        return resources;
    }

    private async Task DiscoverAsync(string apiVersion, CancellationToken cancellationToken)
    {
        var path = apiVersion.Contains('/', StringComparison.Ordinal) ? $"/apis/{apiVersion}" : $"/api/{apiVersion}";
        var response = await SendAsync(HttpMethod.Get, path, null, null, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.NotFound)
        {
            return;
        }

        EnsureSuccess(response, $"discover {apiVersion}");
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : apiVersion[..slash];
        var version = slash < 0 ? apiVersion : apiVersion[(slash + 1)..];
        foreach (var item in response.Body?["resources"]?.AsArray() ?? [])
        {
            var name = item?["name"]?.GetValue<string>();
            var kind = item?["kind"]?.GetValue<string>();
            if (name is null || kind is null || name.Contains('/', StringComparison.Ordinal))
            {
                continue; // subresources such as deployments/status
            }

            var resource = new ApiResource(group, version, kind, name, item!["namespaced"]?.GetValue<bool>() ?? true);
            _resources[(apiVersion, kind)] = resource;
        }
    }

    private async Task<KubeResponse> SendAsync(HttpMethod method, string path, string? body, string? contentType, CancellationToken cancellationToken)
    {
        var delay = _options.InitialBackoff;
        var renewed = false;
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Interlocked.Increment(ref _requests);
            if (method != HttpMethod.Get)
            {
                Interlocked.Increment(ref _writes);
            }

            using var request = new HttpRequestMessage(method, new Uri(_connection.BaseUri, path.TrimStart('/')));
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/json");
            }

            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            var credential = await _connection.AuthorizeAsync(request, cancellationToken).ConfigureAwait(false);

            TimeSpan? retryAfter = null;
            string failure;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_options.RequestTimeout);
                using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                var status = response.StatusCode;
                if (status == HttpStatusCode.Unauthorized && credential is not null && !renewed)
                {
                    // A plugin's credential the server no longer takes: run the plugin again, once, and repeat.
                    _connection.Rejected(credential);
                    renewed = true;
                    attempt--;
                    continue;
                }

                if (!IsTransient(status) || IsPermanentServerError(text))
                {
                    return new KubeResponse(status, Parse(text));
                }

                failure = $"HTTP {(int)status}{(Parse(text)?["message"] is { } m ? $" ({m})" : string.Empty)}";
                if (response.Headers.RetryAfter?.Delta is { } after)
                {
                    retryAfter = after;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                failure = ex is OperationCanceledException ? "request timed out" : ex.Message;
            }

            if (attempt >= _options.MaxAttempts)
            {
                throw new KubeUnavailableException($"{method} {path}: {failure} after {attempt} attempts");
            }

            // The server's Retry-After wins over our own backoff (bounded, so a bad header cannot stall a pass).
            var wait = retryAfter is { } ra ? Min(ra, TimeSpan.FromSeconds(30)) : delay;
            await Task.Delay(wait, _options.Clock, cancellationToken).ConfigureAwait(false);
            delay = Min(delay * 2, _options.MaxBackoff);
        }
    }

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>A 500 that repeating cannot fix: the server cannot merge the applied configuration.</summary>
    private static bool IsPermanentServerError(string text) => text.Contains("failed to create typed patch object", StringComparison.Ordinal);

    private static JsonNode? Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return new JsonObject { ["message"] = text.Length > 200 ? text[..200] : text };
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

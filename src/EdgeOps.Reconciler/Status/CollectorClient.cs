using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace EdgeOps.Reconciler.Status;

/// <summary>The collector could not be reached or failed (network, timeout, 5xx): try again later.</summary>
public sealed class CollectorUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The collector refused the request (4xx): sending it again will not help.</summary>
public sealed class CollectorRejectedException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The collector's API v1 as the agent and the operator's CLI use it: reports in, cluster rows and rollout
/// gates out, halt and resume. Payloads are the source-generated <see cref="CollectorJson"/> types.
/// </summary>
public sealed class CollectorClient : IDisposable
{
    /// <summary>The header that carries a report's SSHSIG: the signature blob in base64, without the armor lines.</summary>
    public const string SignatureHeader = "Signature";

    /// <summary>The largest answer read: a cluster list of 50,000 clusters is about 20 MB.</summary>
    public const int MaxResponseBytes = 64 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly string? _token;

    public CollectorClient(Uri baseUrl, HttpMessageHandler? handler = null, TimeSpan? timeout = null, string? token = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _http.Timeout = timeout ?? TimeSpan.FromSeconds(10);
        _http.MaxResponseContentBufferSize = MaxResponseBytes; // not HttpClient's 2 GB: a proxy's runaway answer must not fill a robot's memory
        _token = token;
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>Sends one signed report; the receipt says which named revisions are halted and carries the gates of its rollout.</summary>
    public async Task<ReportReceipt> SendReportAsync(string body, string armoredSignature, CancellationToken cancellationToken)
    {
        // Every byte counts on a metered link: no charset parameter (JSON is UTF-8), and 204 for "nothing to say".
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/reports") { Content = content };
        request.Headers.TryAddWithoutValidation(SignatureHeader, CompactSignature(armoredSignature));
        return await SendAsync(request, CollectorJson.Default.ReportReceipt, cancellationToken, empty: new ReportReceipt([])).ConfigureAwait(false);
    }

    public async Task<List<ClusterRow>> GetClustersAsync(string? query, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/clusters" + (string.IsNullOrEmpty(query) ? string.Empty : "?" + query));
        return await SendAsync(request, CollectorJson.Default.ListClusterRow, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RolloutStatus> GetRolloutAsync(string revision, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/rollouts/" + Uri.EscapeDataString(revision));
        return await SendAsync(request, CollectorJson.Default.RolloutStatus, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The rollouts of several revisions in one request (an agent choosing the newest revision its wave may take).</summary>
    public async Task<List<RolloutStatus>> GetRolloutsAsync(IEnumerable<string> revisions, CancellationToken cancellationToken)
    {
        var query = string.Join('&', revisions.Select(r => "revision=" + Uri.EscapeDataString(r)));
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/rollouts?" + query);
        return await SendAsync(request, CollectorJson.Default.ListRolloutStatus, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RolloutStatus> HaltAsync(string revision, string? reason, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/rollouts/{Uri.EscapeDataString(revision)}/halt")
        {
            Content = new StringContent(JsonSerializer.Serialize(new HaltRequest(reason), CollectorJson.Default.HaltRequest), Encoding.UTF8, "application/json"),
        };
        return await SendAsync(request, CollectorJson.Default.RolloutStatus, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RolloutStatus> ResumeAsync(string revision, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/rollouts/{Uri.EscapeDataString(revision)}/resume");
        return await SendAsync(request, CollectorJson.Default.RolloutStatus, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An armored SSHSIG as one base64 line (what goes into the header).</summary>
    public static string CompactSignature(string armored) =>
        string.Concat(armored.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("-----", StringComparison.Ordinal)));

    /// <summary>The header's base64 line back in its armor, as <see cref="Trust.Ssh.SshSignature.Parse"/> reads it.</summary>
    public static string ArmoredSignature(string compact) => $"-----BEGIN SSH SIGNATURE-----\n{compact.Trim()}\n-----END SSH SIGNATURE-----\n";

    private async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken cancellationToken, T? empty = null)
        where T : class
    {
        if (_token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new CollectorUnavailableException($"collector {_http.BaseAddress} unreachable: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CollectorUnavailableException($"collector {_http.BaseAddress} did not answer within {_http.Timeout.TotalSeconds:0.#} s", ex);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if ((int)response.StatusCode >= 500)
            {
                throw new CollectorUnavailableException($"collector {_http.BaseAddress} failed: {(int)response.StatusCode} {Problem(text)}");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CollectorRejectedException(response.StatusCode, $"collector refused {request.Method} {request.RequestUri}: {(int)response.StatusCode} {Problem(text)}");
            }

            if (response.StatusCode == HttpStatusCode.NoContent && empty is not null)
            {
                return empty;
            }

            try
            {
                return JsonSerializer.Deserialize(text, type) ?? throw new CollectorUnavailableException($"collector {_http.BaseAddress} answered null");
            }
            catch (JsonException ex)
            {
                throw new CollectorUnavailableException($"collector {_http.BaseAddress} answered something that is not its API: {Fleet.Diagnostics.JsonErrors.Describe(ex)}", ex);
            }
        }
    }

    private static string Problem(string text)
    {
        try
        {
            return JsonSerializer.Deserialize(text, CollectorJson.Default.ApiProblem) is { } problem ? $"{problem.Title}: {problem.Detail}" : text;
        }
        catch (JsonException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }

    public void Dispose() => _http.Dispose();
}

using System.Net;
using System.Net.Sockets;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

public enum FaultKind
{
    None,
    ServerError,
    TooManyRequests,
    Drop,
    Delay,
}

/// <summary>
/// A loopback HTTP proxy in front of the real API server that injects faults: 500s, 429s with
/// Retry-After, latency and dropped connections, chosen per request by a plan. It counts requests by
/// method, so tests and benchmarks can say how many writes a pass made.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream;
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly List<long> _times = [];
    private readonly Dictionary<string, int> _writesTo = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _writeVersions = new(StringComparer.Ordinal);
    private int _sequence;

    public FaultProxy(Uri target, Func<int, HttpListenerRequest, FaultKind>? plan = null)
    {
        _target = target;
        Plan = plan ?? ((_, _) => FaultKind.None);
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        _upstream = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var port = FreePort();
        Uri = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Uri.ToString());
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public Uri Uri { get; }

    /// <summary>
    /// Decides the fault for the n-th request (1-based). Drop forwards the request and then cuts the
    /// connection in the middle of the answer: the effect happened, the client cannot know it.
    /// </summary>
    public Func<int, HttpListenerRequest, FaultKind> Plan { get; set; }

    public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(300);

    public int Faults { get; private set; }

    public int Count(string method)
    {
        lock (_counts)
        {
            return _counts.GetValueOrDefault(method);
        }
    }

    public int Writes => Count("PATCH") + Count("POST") + Count("PUT") + Count("DELETE");

    /// <summary>
    /// Writes that took effect on the object at <paramref name="path"/> (the URL path, no query): the distinct
    /// states its successful write responses show for exactly the fields those writes set. A retried
    /// server-side apply of the same object leaves those fields as the first one did, so one effect stays one
    /// however often it was sent; what other writers change (a controller's status, its annotations) is not
    /// counted.
    /// </summary>
    public int EffectiveWrites(string path)
    {
        lock (_counts)
        {
            return _writeVersions.TryGetValue(path, out var versions) ? versions.Count : 0;
        }
    }

    /// <summary>Write requests forwarded for the object at <paramref name="path"/>, retries included.</summary>
    public int WritesTo(string path)
    {
        lock (_counts)
        {
            return _writesTo.GetValueOrDefault(path);
        }
    }

    /// <summary>The most requests forwarded within any one second.</summary>
    public int PeakRequestsPerSecond
    {
        get
        {
            lock (_counts)
            {
                var peak = 0;
                var start = 0;
                for (var end = 0; end < _times.Count; end++)
                {
                    while (_times[end] - _times[start] >= 1000)
                    {
                        start++;
                    }

                    peak = Math.Max(peak, end - start + 1);
                }

                return peak;
            }
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var n = Interlocked.Increment(ref _sequence);
        var request = context.Request;
        var response = context.Response;
        try
        {
            var fault = Plan(n, request);
            if (fault != FaultKind.None)
            {
                Faults++;
            }

            switch (fault)
            {
                case FaultKind.ServerError:
                    response.StatusCode = 500;
                    await WriteAsync(response, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected fault","reason":"InternalError","code":500}""").ConfigureAwait(false);
                    return;
                case FaultKind.TooManyRequests:
                    response.StatusCode = 429;
                    response.Headers["Retry-After"] = "1";
                    await WriteAsync(response, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected throttling","reason":"TooManyRequests","code":429}""").ConfigureAwait(false);
                    return;
                case FaultKind.Delay:
                    await Task.Delay(Delay).ConfigureAwait(false);
                    break;
            }

            var isWrite = request.HttpMethod is "PATCH" or "POST" or "PUT" or "DELETE";
            var path = request.Url?.AbsolutePath ?? string.Empty;
            lock (_counts)
            {
                _counts[request.HttpMethod] = _counts.GetValueOrDefault(request.HttpMethod) + 1;
                _times.Add(Environment.TickCount64);
                if (isWrite)
                {
                    _writesTo[path] = _writesTo.GetValueOrDefault(path) + 1;
                }
            }

            using var forward = new HttpRequestMessage(new HttpMethod(request.HttpMethod), new Uri(_target, request.RawUrl));
            byte[]? sent = null;
            if (request.HasEntityBody)
            {
                using var body = new MemoryStream();
                await request.InputStream.CopyToAsync(body).ConfigureAwait(false);
                sent = body.ToArray();
                forward.Content = new ByteArrayContent(sent);
                if (request.ContentType is { } type)
                {
                    forward.Content.Headers.TryAddWithoutValidation("Content-Type", type);
                }
            }

            foreach (var name in new[] { "Authorization", "Accept" })
            {
                if (request.Headers[name] is { } value)
                {
                    forward.Headers.TryAddWithoutValidation(name, value);
                }
            }

            using var upstream = await _upstream.SendAsync(forward).ConfigureAwait(false);
            response.StatusCode = (int)upstream.StatusCode;
            response.ContentType = upstream.Content.Headers.ContentType?.ToString();
            var bytes = await upstream.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            if (isWrite && upstream.IsSuccessStatusCode && Effect(request.HttpMethod, sent, bytes) is { } version)
            {
                lock (_counts)
                {
                    if (!_writeVersions.TryGetValue(path, out var versions))
                    {
                        _writeVersions[path] = versions = [];
                    }

                    versions.Add(version);
                }
            }

            if (fault == FaultKind.Drop)
            {
                // The request took effect upstream, but the connection dies halfway through the
                // answer: the client must retry without knowing whether it worked.
                response.ContentLength64 = bytes.Length + 1024;
                await response.OutputStream.WriteAsync(bytes.AsMemory(0, Math.Min(8, bytes.Length))).ConfigureAwait(false);
                response.Abort();
                return;
            }

            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or HttpRequestException or ObjectDisposedException)
        {
            try
            {
                response.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>What a successful write left on the fields it wrote: the response projected onto the request's fields.</summary>
    private static string? Effect(string method, byte[]? sent, byte[] answer)
    {
        if (method == "DELETE")
        {
            return "deleted";
        }

        try
        {
            var request = sent is null ? null : System.Text.Json.Nodes.JsonNode.Parse(sent);
            var response = System.Text.Json.Nodes.JsonNode.Parse(answer);
            return request is null || response is null ? null : Project(request, response)?.ToJsonString();
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // not a JSON apply (a lease update, say)
        }
    }

    private static System.Text.Json.Nodes.JsonNode? Project(System.Text.Json.Nodes.JsonNode shape, System.Text.Json.Nodes.JsonNode? value)
    {
        if (shape is System.Text.Json.Nodes.JsonObject fields && value is System.Text.Json.Nodes.JsonObject actual)
        {
            var projected = new System.Text.Json.Nodes.JsonObject();
            foreach (var (key, child) in fields)
            {
                if (child is not null)
                {
                    projected[key] = Project(child, actual[key]);
                }
            }

            return projected;
        }

        return value?.DeepClone();
    }

    private static async Task WriteAsync(HttpListenerResponse response, string json)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        response.Close();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        try
        {
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // After Stop, the managed listener's Close binds the port again to remove its prefix, and fails when another
            // test has taken the port meanwhile; nothing is left to release.
        }
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        _upstream.Dispose();
        _stop.Dispose();
    }
}

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

            lock (_counts)
            {
                _counts[request.HttpMethod] = _counts.GetValueOrDefault(request.HttpMethod) + 1;
                _times.Add(Environment.TickCount64);
            }

            using var forward = new HttpRequestMessage(new HttpMethod(request.HttpMethod), new Uri(_target, request.RawUrl));
            if (request.HasEntityBody)
            {
                using var body = new MemoryStream();
                await request.InputStream.CopyToAsync(body).ConfigureAwait(false);
                forward.Content = new ByteArrayContent(body.ToArray());
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
        _listener.Close();
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

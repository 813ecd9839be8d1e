using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>How the artifact server misbehaves for the next requests.</summary>
public sealed record ServeMode
{
    public static readonly ServeMode Normal = new();

    /// <summary>Answer this status instead of the artifact.</summary>
    public int? Status { get; init; }

    /// <summary>Send at most this many bytes per second.</summary>
    public long? BytesPerSecond { get; init; }

    /// <summary>Close the connection after this many bytes of one response.</summary>
    public long? CutAfter { get; init; }

    /// <summary>Stop sending (but keep the connection open) after this many bytes of one response.</summary>
    public long? StallAfter { get; init; }

    /// <summary>Ignore Range headers (always send the whole artifact).</summary>
    public bool IgnoreRange { get; init; }

    /// <summary>Applies to this many requests, then the server behaves normally again (null: all).</summary>
    public int? Times { get; init; }
}

/// <summary>
/// Upgrade artifacts over HTTP on loopback, with <c>Range</c> support and injectable faults (status codes,
/// throttling, cut or stalled connections). Counts the body bytes it sends.
/// </summary>
public sealed class ArtifactServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private ServeMode _mode = ServeMode.Normal;
    private int _served;
    private long _sent;

    public ArtifactServer()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Uri = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Uri.ToString());
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public Uri Uri { get; }

    public long BytesSent => Interlocked.Read(ref _sent);

    public int Requests { get; private set; }

    public List<string?> RangeHeaders { get; } = [];

    public Uri Add(string name, byte[] content)
    {
        lock (_gate)
        {
            _files[name] = content;
        }

        return new Uri(Uri, name);
    }

    public void Misbehave(ServeMode mode)
    {
        lock (_gate)
        {
            _mode = mode;
            _served = 0;
        }
    }

    public void ResetCounters()
    {
        Interlocked.Exchange(ref _sent, 0);
        Requests = 0;
        RangeHeaders.Clear();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(context));
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        var response = context.Response;
        ServeMode mode;
        byte[]? content;
        lock (_gate)
        {
            Requests++;
            RangeHeaders.Add(context.Request.Headers["Range"]);
            mode = _mode.Times is { } times && _served >= times ? ServeMode.Normal : _mode;
            _served++;
            _files.TryGetValue(context.Request.Url!.AbsolutePath.TrimStart('/'), out content);
        }

        try
        {
            if (mode.Status is { } status || content is null)
            {
                response.StatusCode = mode.Status ?? 404;
                response.Close();
                return;
            }

            long from = 0;
            if (!mode.IgnoreRange && context.Request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
            {
                from = long.Parse(range[6..^1], CultureInfo.InvariantCulture);
                if (from >= content.Length)
                {
                    response.StatusCode = 416;
                    response.Headers["Content-Range"] = $"bytes */{content.Length}";
                    response.Close();
                    return;
                }

                response.StatusCode = 206;
                response.Headers["Content-Range"] = $"bytes {from}-{content.Length - 1}/{content.Length}";
            }

            response.ContentLength64 = content.Length - from;
            response.Headers["Accept-Ranges"] = "bytes";
            var output = response.OutputStream;
            long sent = 0;
            var started = DateTime.UtcNow;
            const int chunk = 8192;
            for (var at = from; at < content.Length; at += chunk)
            {
                var length = (int)Math.Min(chunk, content.Length - at);
                if (mode.CutAfter is { } cut && sent + length > cut)
                {
                    await output.WriteAsync(content.AsMemory((int)at, (int)(cut - sent)), _stop.Token);
                    Interlocked.Add(ref _sent, cut - sent);
                    await output.FlushAsync(_stop.Token);
                    response.Abort();
                    return;
                }

                if (mode.StallAfter is { } stall && sent >= stall)
                {
                    await output.FlushAsync(_stop.Token);
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }

                await output.WriteAsync(content.AsMemory((int)at, length), _stop.Token);
                sent += length;
                Interlocked.Add(ref _sent, length);
                if (mode.BytesPerSecond is { } rate)
                {
                    var due = started + TimeSpan.FromSeconds(sent / (double)rate) - DateTime.UtcNow;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, _stop.Token);
                    }
                }
            }

            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            try
            {
                response.Abort();
            }
            catch (ObjectDisposedException)
            {
                // gone already
            }
        }
    }
}

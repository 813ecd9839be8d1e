using System.Net;
using System.Text;
using EdgeOps.Reconciler.Status;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeOps.Reconciler.Hosting;

/// <summary>
/// /healthz, /readyz and /metrics on a loopback (or configured) address, for probes and Prometheus.
/// The endpoint serves the agent; it never stops it. An address it cannot listen on (another exporter
/// holds the port, say) is logged once, and tried again every <see cref="RetryEvery"/> while the agent
/// goes on reconciling: a robot keeps its workloads right without its metrics, but not without its agent.
/// </summary>
public sealed partial class HealthEndpoint(ReconcilerMetrics metrics, string prefix, ILogger<HealthEndpoint> logger, TimeProvider? clock = null, TimeSpan? retryEvery = null) : BackgroundService
{
    /// <summary>How often an address that could not be listened on is tried again.</summary>
    public static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(30);

    /// <summary>What EDGEOPS_METRICS_PREFIX holds when it is not set.</summary>
    public const string DefaultPrefix = "http://127.0.0.1:9464/";

    /// <summary>
    /// Why <paramref name="prefix"/> cannot be listened on at all, or null. It is what HttpListener takes,
    /// http://HOST[:PORT]/ with HOST a name, an address, or + or * for every address; or "off".
    /// </summary>
    public static string? Check(string prefix) =>
        prefix == "off" || IsListenerPrefix(prefix)
            ? null
            : $"EDGEOPS_METRICS_PREFIX must be an http URL ending in '/', such as {DefaultPrefix}, or off; found '{prefix}'";

    private static bool IsListenerPrefix(string prefix)
    {
        const string Scheme = "http://";
        if (!prefix.StartsWith(Scheme, StringComparison.Ordinal) || !prefix.EndsWith('/'))
        {
            return false;
        }

        var authority = prefix[Scheme.Length..^1];
        var colon = authority.LastIndexOf(':');
        if (colon > authority.LastIndexOf(']'))
        {
            if (!int.TryParse(authority.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                return false;
            }

            authority = authority[..colon];
        }

        return authority is "+" or "*" || Uri.CheckHostName(authority.Trim('[', ']')) != UriHostNameType.Unknown;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var time = clock ?? TimeProvider.System;
        var retry = retryEvery ?? RetryEvery;
        var refused = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var listener = new HttpListener();
            listener.Prefixes.Add(prefix);
            try
            {
                listener.Start();
            }
            catch (HttpListenerException ex)
            {
                if (!refused)
                {
                    CannotListen(logger, prefix, ex.Message, retry.TotalSeconds);
                    refused = true;
                }

                try
                {
                    await Task.Delay(retry, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (refused)
            {
                Listening(logger, prefix);
            }

            await ServeAsync(listener, stoppingToken).ConfigureAwait(false);
            return;
        }
    }

    private async Task ServeAsync(HttpListener listener, CancellationToken stoppingToken)
    {
        using var registration = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            try
            {
                await AnswerAsync(context, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or OperationCanceledException)
            {
                // The scraper went away: nothing to answer.
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "health and metrics endpoint: cannot listen on {Prefix}: {Reason}; reconciling without it, and trying again every {Seconds}s (EDGEOPS_METRICS_PREFIX names another address, or off)")]
    private static partial void CannotListen(ILogger logger, string prefix, string reason, double seconds);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "health and metrics endpoint: listening on {Prefix}")]
    private static partial void Listening(ILogger logger, string prefix);

    private async Task AnswerAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        var response = context.Response;
        if (context.Request.Url?.AbsolutePath == "/metrics")
        {
            response.StatusCode = 200;
            response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            using var buffer = new MemoryStream();
            await metrics.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            response.ContentLength64 = buffer.Length;
            buffer.Position = 0;
            await buffer.CopyToAsync(response.OutputStream, cancellationToken).ConfigureAwait(false);
            return;
        }

        var (status, body) = context.Request.Url?.AbsolutePath switch
        {
            "/healthz" => (200, "ok\n"),
            "/readyz" => metrics.Ready ? (200, $"ready: {metrics.Readiness}\n") : (503, $"not ready: {metrics.Readiness}\n"),
            _ => (404, "not found\n"),
        };
        var bytes = Encoding.UTF8.GetBytes(body);
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }
}

using System.Net;
using System.Text;
using EdgeOps.Reconciler.Status;
using Microsoft.Extensions.Hosting;

namespace EdgeOps.Reconciler.Hosting;

/// <summary>/healthz, /readyz and /metrics on a loopback (or configured) address, for probes and Prometheus.</summary>
public sealed class HealthEndpoint(ReconcilerMetrics metrics, string prefix) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add(prefix);
        listener.Start();
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

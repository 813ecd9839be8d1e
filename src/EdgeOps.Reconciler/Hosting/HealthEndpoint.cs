using System.Net;
using System.Text;
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

            var (status, body, type) = context.Request.Url?.AbsolutePath switch
            {
                "/healthz" => (200, "ok\n", "text/plain"),
                "/readyz" => metrics.Ready ? (200, "ready\n", "text/plain") : (503, "no revision applied yet\n", "text/plain"),
                "/metrics" => (200, metrics.Render(), "text/plain; version=0.0.4"),
                _ => (404, "not found\n", "text/plain"),
            };
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = type;
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes, stoppingToken).ConfigureAwait(false);
            context.Response.Close();
        }
    }
}

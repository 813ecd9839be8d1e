using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Status;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeOps.Reconciler.Hosting;

/// <summary>Runs the reconciler daemon on Microsoft.Extensions.Hosting until stopped.</summary>
public static class ReconcilerHost
{
    /// <summary>Exit code of a daemon stopped by a defect in a pass (EX_SOFTWARE).</summary>
    public const int Crashed = 70;

    /// <summary>
    /// Runs the daemon until <paramref name="cancellationToken"/> or a signal stops it. <paramref name="metricsPrefix"/>
    /// is where /healthz, /readyz and /metrics are served (checked by <see cref="HealthEndpoint.Check"/>), or "off".
    /// </summary>
    public static async Task<int> RunAsync(ReconcilerOptions options, KubeConnection connection, TimeSpan interval, string metricsPrefix, CancellationToken cancellationToken)
    {
        using var held = StateLock.Acquire(options.StateDirectory);
        var metrics = new ReconcilerMetrics();
        options = options with { Metrics = metrics };
        // No default configuration sources: the agent is configured by its command line, and the defaults
        // would watch appsettings.json in the working directory — an inotify watch on every directory below it.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = options.StateDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(_ => new KubeApi(connection));
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(sp => new ReconcilerService(options, sp.GetRequiredService<KubeApi>(), interval,
            sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<ReconcilerService>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReconcilerService>());
        if (metricsPrefix != "off")
        {
            builder.Services.AddHostedService(sp => new HealthEndpoint(metrics, metricsPrefix, sp.GetRequiredService<ILogger<HealthEndpoint>>(), options.Clock));
        }

        using var host = builder.Build();
        var service = host.Services.GetRequiredService<ReconcilerService>();
        // Resolved before the run: the host disposes of its services when it stops.
        var background = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
        await host.RunAsync(cancellationToken).ConfigureAwait(false);
        // A pass that crashed, or any background service that failed (and so stopped the host): never exit 0 then,
        // or a supervisor that restarts the agent on failure would leave it stopped.
        return service.Fault is null && !background.Any(s => s.ExecuteTask is { IsFaulted: true }) ? 0 : Crashed;
    }
}

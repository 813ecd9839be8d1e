using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeOps.Reconciler.Hosting;

/// <summary>Runs the reconciler daemon on Microsoft.Extensions.Hosting until stopped.</summary>
public static class ReconcilerHost
{
    public static async Task<int> RunAsync(ReconcilerOptions options, KubernetesClientConfiguration configuration, TimeSpan interval, TextWriter error, CancellationToken cancellationToken)
    {
        using var held = StateLock.Acquire(options.StateDirectory);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(_ => new KubeApi(configuration));
        builder.Services.AddSingleton<ReconcilerMetrics>();
        builder.Services.AddHostedService(sp => new ReconcilerService(options, sp.GetRequiredService<KubeApi>(), sp.GetRequiredService<ReconcilerMetrics>(), interval,
            sp.GetRequiredService<ILogger<ReconcilerService>>()));
        var prefix = Environment.GetEnvironmentVariable("EDGEOPS_METRICS_PREFIX") ?? "http://127.0.0.1:9464/";
        builder.Services.AddHostedService(sp => new HealthEndpoint(sp.GetRequiredService<ReconcilerMetrics>(), prefix));
        using var host = builder.Build();
        await host.RunAsync(cancellationToken).ConfigureAwait(false);
        _ = error;
        return 0;
    }
}

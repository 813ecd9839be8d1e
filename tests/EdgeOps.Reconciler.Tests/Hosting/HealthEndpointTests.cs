using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using EdgeOps.Reconciler.Hosting;
using EdgeOps.Reconciler.Status;
using Microsoft.Extensions.Logging;

namespace EdgeOps.Reconciler.Tests.Hosting;

/// <summary>
/// The health and metrics endpoint serves the agent and never stops it: an address another process holds
/// is logged once and tried again until it is free; an address that can never work is refused before the
/// agent starts.
/// </summary>
public sealed class HealthEndpointTests
{
    [Fact]
    public async Task AddressHeldByAnotherProcess_IsLoggedOnce_RetriedWithoutStopping_AndServedOnceFree()
    {
        var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var prefix = $"http://127.0.0.1:{((IPEndPoint)holder.LocalEndpoint).Port}/";
        var log = new ListLogger();
        using var endpoint = new HealthEndpoint(new ReconcilerMetrics(), prefix, log, retryEvery: TimeSpan.FromMilliseconds(50));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };

        await endpoint.StartAsync(CancellationToken.None);
        await Until(() => log.Lines.Count > 0);
        await Task.Delay(400); // several retries while the port stays taken

        var refused = Assert.Single(log.Lines);
        Assert.Equal((LogLevel.Warning, $"health and metrics endpoint: cannot listen on {prefix}: Address already in use; reconciling without it, and trying again every 0.05s (EDGEOPS_METRICS_PREFIX names another address, or off)"), refused);
        Assert.False(endpoint.ExecuteTask!.IsCompleted);

        holder.Stop();
        await Until(async () => await Healthy(http, prefix));
        Assert.Equal((LogLevel.Information, $"health and metrics endpoint: listening on {prefix}"), log.Lines[^1]);
        Assert.Equal(2, log.Lines.Count);

        await endpoint.StopAsync(CancellationToken.None);
        Assert.True(endpoint.ExecuteTask.IsCompletedSuccessfully);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9464/", null)]
    [InlineData("http://+:9464/", null)]
    [InlineData("http://*:9464/", null)]
    [InlineData("http://[::1]:9464/", null)]
    [InlineData("http://agent.local/", null)]
    [InlineData("off", null)]
    [InlineData("127.0.0.1:9464", "found '127.0.0.1:9464'")]
    [InlineData("http://127.0.0.1:9464", "found 'http://127.0.0.1:9464'")]
    [InlineData("http://127.0.0.1:9464/metrics/", "found 'http://127.0.0.1:9464/metrics/'")]
    [InlineData("https://127.0.0.1:9464/", "found 'https://127.0.0.1:9464/'")]
    [InlineData("http://127.0.0.1:99999/", "found 'http://127.0.0.1:99999/'")]
    [InlineData("http://bad host:9464/", "found 'http://bad host:9464/'")]
    [InlineData("", "found ''")]
    public void Prefix_IsAnHttpUrlEndingInASlash_OrOff(string prefix, string? problem)
    {
        var found = HealthEndpoint.Check(prefix);

        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Equal($"EDGEOPS_METRICS_PREFIX must be an http URL ending in '/', such as http://127.0.0.1:9464/, or off; {problem}", found);
        }
    }

    private static async Task<bool> Healthy(HttpClient http, string prefix)
    {
        try
        {
            return (await http.GetAsync(new Uri(prefix + "healthz"))).StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static Task Until(Func<bool> condition) => Until(() => Task.FromResult(condition()));

    private static async Task Until(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 15 s");
            await Task.Delay(20);
        }
    }

    private sealed class ListLogger : ILogger<HealthEndpoint>
    {
        private readonly ConcurrentQueue<(LogLevel, string)> _lines = new();

        public IReadOnlyList<(LogLevel Level, string Message)> Lines => [.. _lines];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue((logLevel, formatter(state, exception)));
    }
}

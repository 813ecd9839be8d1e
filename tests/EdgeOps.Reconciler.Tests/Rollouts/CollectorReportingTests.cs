using System.Text.Json;
using EdgeOps.Collector.Tests.Infrastructure;
using EdgeOps.Reconciler.Status;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Rollouts;

/// <summary>
/// The agent's side of reporting: reports queue on disk while the collector is unreachable and go out oldest first
/// when it is back; an unchanged report waits for the heartbeat; the outbox is bounded; a report the collector
/// refuses for good is dropped without holding up the rest; a torn outbox file is discarded.
/// </summary>
public sealed class CollectorReportingTests : IAsyncLifetime, IDisposable
{
    private readonly TempFleet _repo = new(withFleet: false);
    private readonly string _root = Directory.CreateTempSubdirectory("edgeops-reporting-").FullName;
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 29, 8, 0, 0, TimeSpan.Zero));
    private readonly Switch _network = new();
    private ReportKey _key = null!;
    private CollectorBed _collector = null!;

    public async Task InitializeAsync()
    {
        _key = ReportKey.Create(_root, "robot-1");
        _repo.Write("fleet.yaml", TempFleet.FleetYaml);
        _repo.Cluster("robot-1", "ring: canary", $"reportKey: \"{_key.PublicLine}\"");
        _repo.Commit("fleet");
        _collector = await CollectorBed.StartAsync(_repo);
    }

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    public void Dispose()
    {
        _key?.Dispose();
        _network.Dispose();
        _repo.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private ReportSender Sender(int limit = 256) =>
        new(new CollectorOptions { Url = _collector.Url, Handler = _network, OutboxLimit = limit, Heartbeat = TimeSpan.FromMinutes(5) }, _root, _clock);

    private static AgentReport Report(string outcome, string cluster = "robot-1") => new() { Cluster = cluster, Outcome = outcome, Applied = "abc", Healthy = true };

    [Fact]
    public async Task Offline_ReportsQueueOnDisk_AndGoOutOldestFirst_WhenTheCollectorIsBack()
    {
        using var sender = Sender();
        _network.Offline = true;
        foreach (var outcome in new[] { "Applied", "Unchanged", "Waiting" })
        {
            Assert.True(sender.Enqueue(Report(outcome), _key.Signer));
            await sender.FlushAsync(CancellationToken.None);
            _clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal(3, sender.Pending);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 8, 0, 0, TimeSpan.Zero), sender.State.UnreachableSince);
        Assert.Contains("unreachable", sender.State.LastError, StringComparison.Ordinal);

        _network.Offline = false;
        using var restarted = Sender(); // the outbox survives the agent's restart
        await restarted.FlushAsync(CancellationToken.None);

        Assert.Equal(0, restarted.Pending);
        Assert.Null(restarted.State.UnreachableSince);
        Assert.Equal(["Applied", "Unchanged", "Waiting"], _network.Sent.Select(b => JsonSerializer.Deserialize(b, CollectorJson.Default.AgentReport)!.Outcome));
        Assert.Equal(3, _network.Accepted);
        Assert.Equal("Waiting", (await _collector.Client.GetClustersAsync(null, CancellationToken.None)).Single().Report!.Outcome);
    }

    [Fact]
    public async Task UnchangedReport_WaitsForTheHeartbeat()
    {
        using var sender = Sender();

        var first = sender.Enqueue(Report("Unchanged"), _key.Signer);
        await sender.FlushAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(2));
        var same = sender.Enqueue(Report("Unchanged"), _key.Signer);
        var changed = sender.Enqueue(Report("Applied"), _key.Signer);
        await sender.FlushAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(5));
        var heartbeat = sender.Enqueue(Report("Applied"), _key.Signer);

        Assert.Equal((true, false, true, true), (first, same, changed, heartbeat));
    }

    [Fact]
    public async Task Outbox_IsBounded_TheOldestGoFirst()
    {
        using var sender = Sender(limit: 3);
        _network.Offline = true;
        for (var i = 0; i < 5; i++)
        {
            sender.Enqueue(Report($"Outcome{i}"), _key.Signer);
            await sender.FlushAsync(CancellationToken.None);
        }

        Assert.Equal((3, 2), (sender.Pending, sender.State.Dropped));
        _network.Offline = false;
        await sender.FlushAsync(CancellationToken.None);

        Assert.Equal(["Outcome2", "Outcome3", "Outcome4"], _network.Sent.Select(b => JsonSerializer.Deserialize(b, CollectorJson.Default.AgentReport)!.Outcome));
        Assert.Equal(0, sender.State.Dropped);
    }

    [Fact]
    public async Task RefusedReport_IsDropped_AndTheNextOneStillGoes_TornEntriesAreDiscarded()
    {
        using var sender = Sender();
        _network.Offline = true;
        sender.Enqueue(Report("Applied", cluster: "not-in-the-fleet"), _key.Signer);
        _clock.Advance(TimeSpan.FromSeconds(1));
        sender.Enqueue(Report("Unchanged"), _key.Signer);
        File.WriteAllText(Path.Combine(_root, "outbox", "0000000000000000001.json"), "{\"sequence\": 1, \"bo"); // torn by a power cut

        _network.Offline = false;
        await sender.FlushAsync(CancellationToken.None);

        Assert.Equal(0, sender.Pending);
        Assert.Contains("no cluster named 'not-in-the-fleet'", sender.State.LastRefused, StringComparison.Ordinal);
        Assert.Equal(1, _network.Accepted);
        Assert.Equal("Unchanged", (await _collector.Client.GetClustersAsync(null, CancellationToken.None)).Single().Report!.Outcome);
    }

    /// <summary>The agent's network: off (connection refused) or on; records what reached the collector.</summary>
    private sealed class Switch() : DelegatingHandler(new SocketsHttpHandler())
    {
        public bool Offline { get; set; }

        public List<string> Sent { get; } = [];

        public int Accepted { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Offline)
            {
                throw new HttpRequestException("Connection refused (simulated: the link is down)");
            }

            Sent.Add(await request.Content!.ReadAsStringAsync(cancellationToken));
            var response = await base.SendAsync(request, cancellationToken);
            Accepted += response.IsSuccessStatusCode ? 1 : 0;
            return response;
        }
    }
}

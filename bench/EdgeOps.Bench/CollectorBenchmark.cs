using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EdgeOps.Collector;
using EdgeOps.Collector.Storage;
using EdgeOps.Collector.Tests.Infrastructure;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;
using EdgeOps.Trust.Ssh;

namespace EdgeOps.Bench;

/// <summary>
/// The collector's figures: signed reports accepted per second over HTTP on SQLite and on PostgreSQL (against the
/// same load on a no-op endpoint, the HTTP ceiling, measured in the same run); the fleet page's load for 50,000
/// clusters in headless Chromium (against a blank page); and an agent's bytes on the wire per day at a 5-minute
/// heartbeat, steady and while waiting in a later wave.
/// </summary>
internal static class CollectorBenchmark
{
    private const int Concurrency = 32;

    public static async Task<int> RunAsync(int clusters, int reports, int rounds)
    {
        var root = Directory.CreateTempSubdirectory("edgeops-bench-collector-").FullName;
        try
        {
            var keyPath = Path.Combine(root, "report-key");
            using (var keygen = Process.Start("ssh-keygen", ["-q", "-t", "ed25519", "-N", string.Empty, "-C", "fleet", "-f", keyPath])!)
            {
                await keygen.WaitForExitAsync();
            }

            using var signer = SshSigner.FromOpenSsh(await File.ReadAllTextAsync(keyPath));
            var snapshot = Snapshot(clusters, signer.PublicKey);
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores; fleet of {clusters:N0} clusters; {reports:N0} reports per round, {Concurrency} connections; medians of {rounds} rounds");

            // Reports are signed beforehand: signing is the agents' work, not the collector's.
            // Each round sends newer reports than the one before, so every one is stored (none is a replay).
            var sequence = 1_000_000L;
            var bodies = Enumerable.Range(0, rounds).Select(round => Enumerable.Range(0, reports).Select(i =>
            {
                var report = Report($"c{((round * reports) + i) % clusters:D5}", sequence++);
                var body = JsonSerializer.Serialize(report, CollectorJson.Default.AgentReport);
                return (body, CollectorClient.CompactSignature(signer.Sign(Encoding.UTF8.GetBytes(body), EdgeOps.Reconciler.Pipeline.Reconciler.ReportNamespace)));
            }).ToArray()).ToArray();

            await using var postgres = new PrivatePostgres();
            await postgres.StartAsync();
            foreach (var (name, database) in new[] { ("SQLite", "sqlite:" + Path.Combine(root, "bench.db")), ("PostgreSQL", await postgres.NewDatabaseAsync()) })
            {
                await using var collector = await RunningCollector.StartAsync(database, snapshot, root);
                var url = collector.Url;
                var ceiling = new List<double>();
                var accepted = new List<double>();
                for (var round = 0; round < rounds; round++)
                {
                    ceiling.Add(await RateAsync(url, bodies[round], noop: true));
                    accepted.Add(await RateAsync(url, bodies[round], noop: false));
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-11} reports accepted: median {Median(accepted),8:N0}/s   (baseline, the same load on GET /healthz: {Median(ceiling),8:N0}/s)"));
                if (name == "SQLite")
                {
                    await PageAsync(url, root, rounds);
                }
            }

            await BytesPerDayAsync(root, signer);
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static FleetSnapshot Snapshot(int count, SshPublicKey key)
    {
        var line = new Located<string>($"{key.Type} {Convert.ToBase64String(key.Blob)}", SourceLocation.None);
        var list = Enumerable.Range(0, count).Select(i => new Cluster(
            new ObjectMeta(new Located<string>($"c{i:D5}", SourceLocation.None), ImmutableSortedDictionary<string, string>.Empty.Add("ring", i < count / 100 ? "canary" : "main"), SourceLocation.None),
            SourceLocation.None, new GeoPoint(36 + (i % 100 * 0.1), -9 + (i / 100 % 100 * 0.2)), null, null, null, [], null, EdgeOps.Fleet.Yaml.MappingNode.Empty)
        { ReportKey = line }).ToList();
        var selector = (string ring) => new LabelSelector(ImmutableSortedDictionary<string, string>.Empty.Add("ring", ring), [], SourceLocation.None);
        var rollout = new RolloutSpec([new RolloutWave("canary", selector("canary"), null, null, SourceLocation.None), new RolloutWave("main", selector("main"), 10, null, SourceLocation.None)], 100, SourceLocation.None);
        return new FleetSnapshot("head", "bench", list.ToFrozenDictionary(c => c.Name, c => new RegisteredCluster(c, key, null), StringComparer.Ordinal), list, rollout);
    }

    private static AgentReport Report(string cluster, long sequence) => new()
    {
        Cluster = cluster,
        Sequence = sequence,
        Time = DateTimeOffset.UtcNow,
        Applied = "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        Outcome = "Unchanged",
        Message = "unchanged 4b825dc642cb: 31 objects in sync",
        Healthy = true,
        Window = "closed",
        Lat = 41.56,
        Lon = 0.52,
    };

    /// <summary>Reports (or no-op requests) per second over <see cref="Concurrency"/> keep-alive connections.</summary>
    private static async Task<double> RateAsync(Uri url, (string Body, string Signature)[] bodies, bool noop)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency };
        using var http = new HttpClient(handler) { BaseAddress = url };
        var next = -1;
        var failures = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var i && i < bodies.Length)
            {
                using var request = noop
                    ? new HttpRequestMessage(HttpMethod.Get, "healthz")
                    : new HttpRequestMessage(HttpMethod.Post, "v1/reports") { Content = new StringContent(bodies[i].Body, Encoding.UTF8, "application/json") };
                if (!noop)
                {
                    request.Headers.TryAddWithoutValidation(CollectorClient.SignatureHeader, bodies[i].Signature);
                }

                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} requests failed");
        }

        return bodies.Length / watch.Elapsed.TotalSeconds;
    }

    /// <summary>The fleet page for the whole fleet in headless Chromium, against a blank page from the same server.</summary>
    private static async Task PageAsync(Uri url, string root, int rounds)
    {
        var page = new List<double>();
        var blank = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            blank.Add(await ChromiumAsync(new Uri(url, "healthz"), root));
            page.Add(await ChromiumAsync(url, root));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fleet page, whole fleet reporting: chromium --dump-dom median {Median(page):0.00} s   (baseline, a blank page from the same server: {Median(blank):0.00} s; page load = {Median(page) - Median(blank):0.00} s)"));
    }

    private static async Task<double> ChromiumAsync(Uri page, string root)
    {
        var watch = Stopwatch.StartNew();
        // Virtual time fast-forwards only while the page is idle: the dump comes once its fetches and rendering are done.
        var start = new ProcessStartInfo("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--virtual-time-budget=60000",
            $"--user-data-dir={Path.Combine(root, "chromium")}", "--dump-dom", page.AbsoluteUri])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var dom = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (page.AbsolutePath == "/" && !dom.Contains("data-loaded=\"true\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("the fleet page did not finish loading");
        }

        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>An agent's reporting for a simulated day at a 5-minute heartbeat, counted on the wire (HTTP/1.1, headers included).</summary>
    private static async Task BytesPerDayAsync(string root, SshSigner signer)
    {
        await using var collector = await RunningCollector.StartAsync("sqlite:" + Path.Combine(root, "bytes.db"), Snapshot(100, signer.PublicKey), root);
        var url = collector.Url;

        foreach (var (scenario, waiting) in new[] { ("steady (applied, healthy)", false), ("waiting in a later wave (gates in each receipt)", true) })
        {
            var counter = new ByteCounter();
            var clock = new SteppedClock(DateTimeOffset.UtcNow);
            var state = Directory.CreateDirectory(Path.Combine(root, waiting ? "agent-waiting" : "agent-steady")).FullName;
            using var sender = new ReportSender(new CollectorOptions { Url = url, Handler = counter.Handler }, state, clock);
            for (var beat = 0; beat < 288; beat++)
            {
                var report = Report(waiting ? "c00050" : "c00001", 0) with
                {
                    // What a waiting agent sends: its place in the rollout, the reason in the message (not twice).
                    Rollout = waiting ? new RolloutPosition { Revision = "9fceb02d0ae598e95dc970b74767f19372d61af8", Wave = 1, WaveName = "main", WaveSize = 9_900, Batch = 3, BatchSize = 990, Verdict = "Wait" } : null,
                    Outcome = waiting ? "Waiting" : "Unchanged",
                    Message = waiting ? "revision 9fceb02d0ae5 waits: wave 'main' waits for wave 'canary' to pass; unchanged 4b825dc642cb: 31 objects in sync" : "unchanged 4b825dc642cb: 31 objects in sync",
                };
                sender.Enqueue(report, signer);
                await sender.FlushAsync(CancellationToken.None);
                clock.Advance(TimeSpan.FromMinutes(5));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"agent bytes per day, {scenario}: {(counter.Sent + counter.Received) / 1024.0:0.0} KB ({counter.Sent / 1024.0:0.0} KB sent, {counter.Received / 1024.0:0.0} KB received; 288 reports)"));
        }

    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>A collector on a loopback port over <paramref name="database"/>, for a fleet given as a snapshot (no Git).</summary>
    private sealed class RunningCollector(ReportStore store, CollectorService service, Microsoft.AspNetCore.Builder.WebApplication app) : IAsyncDisposable
    {
        public Uri Url { get; } = CollectorHost.Address(app);

        public static async Task<RunningCollector> StartAsync(string database, FleetSnapshot snapshot, string root)
        {
            var store = ReportStore.Open(database);
            await store.MigrateAsync(CancellationToken.None);
            var registry = new FleetRegistry(new GitSourceOptions { Url = root, CacheDirectory = Path.Combine(root, "unused.git") });
            registry.Use(snapshot);
            var service = new CollectorService(new CollectorSettings(), store, registry);
            var app = CollectorHost.Build(service, new IPEndPoint(IPAddress.Loopback, 0));
            await app.StartAsync();
            return new RunningCollector(store, service, app);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
            await service.DisposeAsync();
            await store.DisposeAsync();
        }
    }

    private sealed class SteppedClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    /// <summary>Counts the bytes of every connection the handler opens, both ways, as they cross the socket.</summary>
    private sealed class ByteCounter
    {
        private long _sent;
        private long _received;

        public ByteCounter() => Handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new CountingStream(new NetworkStream(socket, ownsSocket: true), this);
            },
        };

        public SocketsHttpHandler Handler { get; }

        public long Sent => Interlocked.Read(ref _sent);

        public long Received => Interlocked.Read(ref _received);

        private sealed class CountingStream(Stream inner, ByteCounter counter) : Stream
        {
            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => true;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Flush() => inner.Flush();

            public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

            public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Count(await inner.ReadAsync(buffer, cancellationToken));

            public override void Write(byte[] buffer, int offset, int count)
            {
                Interlocked.Add(ref counter._sent, count);
                inner.Write(buffer, offset, count);
            }

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            {
                Interlocked.Add(ref counter._sent, buffer.Length);
                return inner.WriteAsync(buffer, cancellationToken);
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    inner.Dispose();
                }

                base.Dispose(disposing);
            }

            private int Count(int read)
            {
                Interlocked.Add(ref counter._received, read);
                return read;
            }
        }
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeOps.Reconciler.Location;

namespace EdgeOps.Reconciler.Tests.Location;

/// <summary>
/// The gpsd watcher outlives whatever is at the other end of its socket: reports of the wrong shape are ignored,
/// a line that never ends is cut off and the connection made again, and the next good report is a position.
/// </summary>
public sealed class GpsdWatcherTests
{
    private const string Fix = """{"class":"TPV","device":"/dev/ttyACM0","mode":3,"time":"2026-11-29T12:00:24.000Z","lat":40.0,"lon":-3.0}""";

    [Fact]
    public async Task Watcher_FedNonsenseAndAnEndlessLine_ReconnectsAndReadsTheNextFix()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var connections = 0;
        var serving = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await server.AcceptTcpClientAsync();
                var stream = client.GetStream();
                if (Interlocked.Increment(ref connections) == 1)
                {
                    // Valid JSON of the wrong shapes, then a line that never ends.
                    await stream.WriteAsync(Encoding.UTF8.GetBytes("{\"class\":5}\n{\"class\":\"TPV\",\"device\":7,\"mode\":1e12,\"time\":\"2026-11-29T12:00:20.000Z\"}\n[1,2]\n"));
                    await stream.WriteAsync(Enumerable.Repeat((byte)'x', GpsdWatcher.MaxLineBytes + 4096).ToArray());
                }
                else
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(Fix + "\r\n"));
                }

                // Held open until the watcher lets go.
                var sink = new byte[1024];
                while (await stream.ReadAsync(sink) > 0)
                {
                }
            }
        });
        var samples = new ConcurrentQueue<LocationSample>();
        var port = ((IPEndPoint)server.LocalEndpoint).Port;

        await using (new GpsdWatcher($"127.0.0.1:{port}", samples.Enqueue, TimeProvider.System))
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (!samples.Any(s => s.Position is not null))
            {
                Assert.True(DateTime.UtcNow < deadline, "no fix within 15 s: " + string.Join("; ", samples.Select(s => s.Source)));
                await Task.Delay(20);
            }
        }

        server.Stop();
        await Assert.ThrowsAnyAsync<Exception>(() => serving); // the listener stopped under it
        var seen = samples.ToList();
        Assert.Equal(2, Volatile.Read(ref connections));
        Assert.Equal(("gpsd /dev/ttyACM0", 40.0, -3.0), (seen[^1].Source, seen[^1].Position!.Value.Lat, seen[^1].Position!.Value.Lon));
        // Before it: the TPV without a usable fix (no position), and the dropped connection.
        Assert.Contains(seen, s => s.Source == "gpsd" && s.Position is null);
        Assert.Contains(seen, s => s.Source == $"gpsd 127.0.0.1:{port} (not connected)");
    }

    [Fact]
    public async Task Watcher_OnAConnectionThatFallsSilent_TakesTheFixForLost_AndConnectsAgain()
    {
        // A gpsd that hung, or a half-open socket: the connection stays up and nothing more arrives.
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var connections = 0;
        var held = new ConcurrentBag<TcpClient>();
        var serving = Task.Run(async () =>
        {
            while (true)
            {
                var client = await server.AcceptTcpClientAsync();
                held.Add(client);
                Interlocked.Increment(ref connections);
                await client.GetStream().WriteAsync(Encoding.UTF8.GetBytes(Fix + "\n"));
            }
        });
        var samples = new ConcurrentQueue<LocationSample>();
        var port = ((IPEndPoint)server.LocalEndpoint).Port;

        await using (new GpsdWatcher($"127.0.0.1:{port}", samples.Enqueue, TimeProvider.System, silence: TimeSpan.FromSeconds(1)))
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (Volatile.Read(ref connections) < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "the watcher never gave up on the silent connection: " + string.Join("; ", samples.Select(s => s.Source)));
                await Task.Delay(20);
            }
        }

        server.Stop();
        await Assert.ThrowsAnyAsync<Exception>(() => serving);
        foreach (var client in held)
        {
            client.Dispose();
        }

        var seen = samples.ToList();
        var firstFix = seen.FindIndex(s => s.Position is not null);
        var lost = seen.FindIndex(s => s.Source == $"gpsd 127.0.0.1:{port} (not connected)");
        Assert.True(firstFix >= 0 && lost > firstFix, string.Join("; ", seen.Select(s => s.Source)));
    }

    [Fact]
    public async Task Lines_AreSplitOnNewlines_AcrossReads_WithoutTheirCarriageReturns()
    {
        var text = "{\"a\":1}\r\n{\"b\":" + new string(' ', 10_000) + "2}\n\nlast-without-newline";
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));

        var lines = new List<string>();
        await foreach (var line in GpsdWatcher.ReadLinesAsync(stream, CancellationToken.None))
        {
            lines.Add(line);
        }

        Assert.Equal(["{\"a\":1}", "{\"b\":" + new string(' ', 10_000) + "2}", string.Empty], lines);
    }
}

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EdgeOps.Fleet.Model;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Location;

/// <summary>Where the live position comes from: none (the Cluster's static location), the facts file, the node, or gpsd.</summary>
public enum LocationSourceKind
{
    None,
    Facts,
    Node,
    Gpsd,
}

public sealed record LocationOptions
{
    public static readonly LocationOptions None = new();

    public LocationSourceKind Source { get; init; } = LocationSourceKind.None;

    /// <summary>gpsd's address (its JSON protocol), host:port.</summary>
    public string Gpsd { get; init; } = "127.0.0.1:2947";

    /// <summary>The node whose <c>edgeops.io/location</c> annotation or label holds "lat,lon" (default: NODE_NAME).</summary>
    public string? NodeName { get; init; } = Environment.GetEnvironmentVariable("NODE_NAME");

    /// <summary>Decimals of latitude and longitude in status reports (3 ≈ 100 m).</summary>
    public int Precision { get; init; } = 3;
}

/// <summary>Reads "lat,lon" from the node's <c>edgeops.io/location</c> annotation (or label) once per pass.</summary>
public static class NodeLocation
{
    public const string Key = "edgeops.io/location";

    public static async Task<LocationSample> ReadAsync(KubeApi api, string? nodeName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (nodeName is null)
        {
            return new LocationSample(null, now, "node (NODE_NAME is not set)");
        }

        var response = await api.RawAsync(HttpMethod.Get, $"/api/v1/nodes/{Uri.EscapeDataString(nodeName)}", null, null, cancellationToken).ConfigureAwait(false);
        var metadata = response.IsSuccess ? response.Body?["metadata"] : null;
        var text = metadata?["annotations"]?[Key]?.GetValue<string>() ?? metadata?["labels"]?[Key]?.GetValue<string>();
        return new LocationSample(Parse(text), now, $"node {nodeName}");
    }

    /// <summary>"lat,lon" in decimal degrees; null when absent or not a valid position.</summary>
    public static GeoPoint? Parse(string? text)
    {
        var parts = text?.Split(',', StringSplitOptions.TrimEntries);
        return parts is [var a, var b]
            && double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var lat)
            && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var lon)
                ? GeoPoint.OnTheGlobe(lat, lon)
                : null;
    }
}

/// <summary>
/// Follows gpsd (the standard GPS daemon) over its JSON protocol on TCP: <c>?WATCH={"enable":true,"json":true}</c>,
/// then every <c>TPV</c> report becomes a sample — a position when <c>mode</c> is 2 or 3, no fix otherwise — timed by
/// the fix's own UTC time. A lost connection is a lost fix; it reconnects with backoff. So is a silent one: gpsd
/// reports about once a second while it has a receiver, so a connection quiet for <see cref="DefaultSilence"/> is
/// taken for a dead one (a gpsd that hung, a half-open socket) and made again, instead of holding the last
/// position as current for ever.
/// </summary>
public sealed class GpsdWatcher : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly string _host;
    private readonly int _port;
    private readonly Action<LocationSample> _observe;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _silence;

    public static readonly TimeSpan DefaultSilence = TimeSpan.FromSeconds(30);

    public GpsdWatcher(string address, Action<LocationSample> observe, TimeProvider clock, TimeSpan? silence = null)
    {
        _silence = silence ?? DefaultSilence;
        var colon = address.LastIndexOf(':');
        _host = colon > 0 ? address[..colon] : address;
        _port = colon > 0 && int.TryParse(address[(colon + 1)..], CultureInfo.InvariantCulture, out var port) ? port : 2947;
        _observe = observe;
        _clock = clock;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>TPV reports read so far (for tests and status).</summary>
    public long Reports { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }

        _stop.Dispose();
    }

    /// <summary>Bytes a gpsd report line may have: its longest reports are a few kilobytes.</summary>
    public const int MaxLineBytes = 64 * 1024;

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(_host, _port, cancellationToken).ConfigureAwait(false);
                await using var stream = client.GetStream();
                await stream.WriteAsync("?WATCH={\"enable\":true,\"json\":true};\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(200);
                await foreach (var line in ReadLinesAsync(stream, cancellationToken, _silence).ConfigureAwait(false))
                {
                    if (Parse(line, _clock.GetUtcNow()) is { } sample)
                    {
                        Reports++;
                        _observe(sample);
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException && !cancellationToken.IsCancellationRequested)
            {
                // gpsd not (yet) there, gone, or talking nonsense: below
            }

            _observe(new LocationSample(null, _clock.GetUtcNow(), $"gpsd {_host}:{_port} (not connected)"));
            await Task.Delay(backoff, _clock, cancellationToken).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, backoff.Ticks * 2));
        }
    }

    /// <summary>
    /// The lines of a stream, each at most <see cref="MaxLineBytes"/>: a peer that never ends a line is cut off
    /// (IOException), not buffered for ever; so is one that sends nothing for <paramref name="silence"/>.
    /// </summary>
    internal static async IAsyncEnumerable<string> ReadLinesAsync(Stream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, TimeSpan? silence = null)
    {
        var buffer = new byte[4096];
        var line = new MemoryStream();
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            int read;
            quiet.CancelAfter(silence ?? Timeout.InfiniteTimeSpan);
            try
            {
                read = await stream.ReadAsync(buffer, quiet.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new IOException($"gpsd sent nothing for {silence!.Value.TotalSeconds:0.#} s");
            }

            if (read == 0)
            {
                break;
            }

            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n')
                {
                    continue;
                }

                line.Write(buffer, start, i - start);
                start = i + 1;
                yield return Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length).TrimEnd('\r');
                line.SetLength(0);
            }

            line.Write(buffer, start, read - start);
            if (line.Length > MaxLineBytes)
            {
                throw new IOException($"gpsd sent a line longer than {MaxLineBytes} bytes");
            }
        }
    }

    /// <summary>A TPV report as a sample, timed by the fix; null for any other report and for a TPV without a time.</summary>
    public static LocationSample? Parse(string line, DateTimeOffset now)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("class", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "TPV")
            {
                return null;
            }

            if (!root.TryGetProperty("time", out var t) || t.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                return null; // a report before the receiver knows the date: it cannot be placed in time
            }

            // Anything else than a fix with coordinates on the globe is no fix: a receiver's glitch must not move the robot.
            var mode = root.TryGetProperty("mode", out var m) && m.ValueKind == JsonValueKind.Number && m.TryGetInt32(out var reported) ? reported : 0;
            var source = root.TryGetProperty("device", out var d) && d.ValueKind == JsonValueKind.String ? $"gpsd {d.GetString()}" : "gpsd";
            return new LocationSample(mode >= 2 ? GeoPoint.OnTheGlobe(Degrees(root, "lat"), Degrees(root, "lon")) : null, time, source);
        }
        catch (JsonException)
        {
            return null; // not a report
        }

        static double? Degrees(JsonElement report, string name) =>
            report.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var degrees) ? degrees : null;
    }
}

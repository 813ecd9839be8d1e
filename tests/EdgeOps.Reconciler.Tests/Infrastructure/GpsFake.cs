using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>One fix of a recorded track: when, where, and whether the receiver had a fix at all.</summary>
public sealed record TrackPoint(DateTimeOffset Time, double Lat, double Lon, bool Fix = true);

/// <summary>
/// A real gpsd fed by <c>gpsfake</c> (Debian's gpsd and gpsd-clients) from an NMEA 0183 log written for a track:
/// GGA and RMC sentences per point, with checksums; a point without a fix is written as GGA quality 0 and RMC
/// status V. Needs <c>gpsd</c> and <c>gpsfake</c> (scripts/build-deps.sh installs them); fails loudly without them.
/// </summary>
public sealed class GpsFake : IDisposable
{
    private readonly Process _process;
    private readonly string _log;

    /// <remarks>gpsd loses sync on a pty written faster than about one sentence per 10 ms, hence the default.</remarks>
    public GpsFake(IEnumerable<TrackPoint> track, double secondsPerSentence = 0.02)
    {
        Assert.True(File.Exists("/usr/sbin/gpsd") && File.Exists("/usr/bin/gpsfake"), "gpsd and gpsfake are not installed: scripts/build-deps.sh installs gpsd, gpsd-clients and python3-gps");
        _log = Path.Combine(Path.GetTempPath(), "edgeops-track-" + Guid.NewGuid().ToString("N")[..8] + ".nmea");
        File.WriteAllText(_log, Nmea(track));
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var start = new ProcessStartInfo("gpsfake") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-1", "-q", "-c", secondsPerSentence.ToString(CultureInfo.InvariantCulture), "-P", Port.ToString(CultureInfo.InvariantCulture), _log })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
        File.Delete(_log);
    }

    /// <summary>
    /// Waits until gpsd accepts connections. A client that comes earlier is refused and backs off (up to 30 s, as a
    /// robot's agent should): on a loaded machine that wait alone could outlast a test's deadline.
    /// </summary>
    public async Task ListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Waits until gpsfake has replayed the whole log (it exits), or the timeout passes.</summary>
    public bool WaitForEnd(TimeSpan timeout) => _process.WaitForExit(timeout);

    public static string Nmea(IEnumerable<TrackPoint> track)
    {
        var text = new StringBuilder();
        foreach (var p in track)
        {
            var time = p.Time.UtcDateTime.ToString("HHmmss.ff", CultureInfo.InvariantCulture);
            var date = p.Time.UtcDateTime.ToString("ddMMyy", CultureInfo.InvariantCulture);
            var (lat, ns) = Degrees(p.Lat, 2, 'N', 'S');
            var (lon, ew) = Degrees(p.Lon, 3, 'E', 'W');
            Sentence(text, p.Fix ? $"GPGGA,{time},{lat},{ns},{lon},{ew},1,08,0.9,545.4,M,46.9,M,," : $"GPGGA,{time},,,,,0,00,99.9,,M,,M,,");
            Sentence(text, p.Fix ? $"GPRMC,{time},A,{lat},{ns},{lon},{ew},0.5,54.7,{date},,,A" : $"GPRMC,{time},V,,,,,,,{date},,,N");
        }

        return text.ToString();
    }

    private static (string Value, char Hemisphere) Degrees(double value, int width, char positive, char negative)
    {
        var a = Math.Abs(value);
        var whole = (int)a;
        var minutes = (a - whole) * 60;
        return (whole.ToString(new string('0', width), CultureInfo.InvariantCulture) + minutes.ToString("00.000000", CultureInfo.InvariantCulture), value >= 0 ? positive : negative);
    }

    private static void Sentence(StringBuilder text, string body)
    {
        var sum = body.Aggregate(0, (c, ch) => c ^ ch);
        text.Append(CultureInfo.InvariantCulture, $"${body}*{sum:X2}\r\n");
    }
}

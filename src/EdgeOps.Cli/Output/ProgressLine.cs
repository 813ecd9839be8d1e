using System.Diagnostics;

namespace EdgeOps.Cli.Output;

/// <summary>
/// A single self-overwriting progress line on a terminal, for large fleets. Updates at most ten
/// times a second and erases itself when done; never used when output is redirected.
/// </summary>
internal sealed class ProgressLine(TextWriter writer, int threshold) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastTicks = -1000;
    private bool _shown;
    private bool _disposed;

    public void Report(int done, int total)
    {
        if (total < threshold)
        {
            return;
        }

        lock (_gate)
        {
            if (_disposed || (done != total && _clock.ElapsedMilliseconds - _lastTicks < 100))
            {
                return;
            }

            _lastTicks = _clock.ElapsedMilliseconds;
            writer.Write($"\rrendering clusters {done}/{total} ({done * 100 / total}%)");
            writer.Flush();
            _shown = true;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_shown && !_disposed)
            {
                writer.Write("\r\u001b[2K");
                writer.Flush();
            }

            _disposed = true;
        }
    }
}

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>
/// One reconciler per state folder: an exclusive lock file held for the process's life. A second
/// reconciler pointed at the same state stops at once instead of corrupting the first one's journal.
/// </summary>
public sealed class StateLock : IDisposable
{
    private readonly FileStream _stream;

    private StateLock(FileStream stream) => _stream = stream;

    public static StateLock Acquire(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ReconcilerException($"the state folder {directory} is not writable: {ex.Message}", ex);
        }

        try
        {
            var stream = new FileStream(Path.Combine(directory, "reconciler.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            using (var writer = new StreamWriter(stream, leaveOpen: true))
            {
                writer.Write(Environment.ProcessId);
            }

            stream.Flush(flushToDisk: true);
            return new StateLock(stream);
        }
        catch (IOException ex)
        {
            throw new ReconcilerException($"another reconciler holds {directory} (reconciler.lock); refusing to run beside it", ex);
        }
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>A reconciler cannot run at all (bad state folder, another reconciler): a configuration error, not transient.</summary>
public sealed class ReconcilerException(string message, Exception? inner = null) : Exception(message, inner);

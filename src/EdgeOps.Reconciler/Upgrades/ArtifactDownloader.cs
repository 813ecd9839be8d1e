using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>
/// A failed step of an upgrade. <see cref="Permanent"/> failures (a 404, a wrong digest or size, a refused
/// signature) end the plan; the others (network, a full disk) leave it where it is to be retried later.
/// </summary>
public sealed class UpgradeStepException(string step, string message, bool permanent, Exception? inner = null) : Exception(message, inner)
{
    public string Step { get; } = step;

    public bool Permanent { get; } = permanent;
}

/// <summary>What to fetch and how.</summary>
public sealed record DownloadRequest(Uri Url, string Digest, long? Size, long? MaxKbps, int Retries);

/// <summary>The verified artifact on disk, and how many bytes this call fetched (the rest came from an earlier, interrupted one).</summary>
public sealed record DownloadResult(string Path, long Length, long Fetched, long ResumedFrom);

public sealed record DownloaderOptions
{
    /// <summary>First wait between attempts; doubled each time up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>A connection that delivers nothing for this long is dropped and the download resumed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Called with the bytes on disk as they grow (progress, crash tests).</summary>
    public Action<long>? Progress { get; init; }

    /// <summary>The clock retry backoff waits on.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// Fetches an upgrade artifact into the state folder: HTTP(S) with resume (<c>Range</c> from what an earlier
/// attempt left, even across restarts), a bandwidth cap, retries with backoff, and the size and sha256 checked
/// while streaming. The partial file is named by the digest, so it can only ever continue the same artifact;
/// a finished file that does not match the digest is deleted. <c>file:</c> URLs are copied the same way.
/// </summary>
public sealed class ArtifactDownloader(HttpClient http, string directory, DownloaderOptions? options = null)
{
    private const int ChunkBytes = 64 * 1024;
    private readonly DownloaderOptions _options = options ?? new DownloaderOptions();

    public static string FileFor(string directory, string digest) => Path.Combine(directory, Hex(digest) + ".artifact");

    public async Task<DownloadResult> FetchAsync(DownloadRequest request, CancellationToken cancellationToken)
    {
        if (!request.Digest.StartsWith("sha256:", StringComparison.Ordinal))
        {
            throw new UpgradeStepException("download", $"the agent checks sha256 digests; {request.Digest} cannot be checked", permanent: true);
        }

        Directory.CreateDirectory(directory);
        var final = FileFor(directory, request.Digest);
        if (File.Exists(final))
        {
            // Finished before: it was checked when it was renamed into place, but check again (outside damage).
            var length = new FileInfo(final).Length;
            if (await DigestOfAsync(final, cancellationToken).ConfigureAwait(false) == request.Digest)
            {
                return new DownloadResult(final, length, 0, length);
            }

            File.Delete(final);
        }

        var part = Path.Combine(directory, Hex(request.Digest) + ".part");
        var resumedFrom = File.Exists(part) ? new FileInfo(part).Length : 0;
        long fetched = 0;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                fetched += await FetchOnceAsync(request, part, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (Transient(ex, cancellationToken) && attempt < request.Retries)
            {
                var wait = TimeSpan.FromTicks(Math.Min(_options.MaxBackoff.Ticks, _options.Backoff.Ticks << Math.Min(attempt, 20)));
                await Task.Delay(wait, _options.Clock, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (Transient(ex, cancellationToken))
            {
                throw new UpgradeStepException("download", $"{Redact(request.Url)}: {Describe(ex)} (after {request.Retries + 1} attempts; {(File.Exists(part) ? new FileInfo(part).Length : 0)} bytes kept to resume)", permanent: false, ex);
            }
        }

        var total = new FileInfo(part).Length;
        if (request.Size is { } size && total != size)
        {
            File.Delete(part);
            throw new UpgradeStepException("download", $"{Redact(request.Url)}: the artifact is {total} bytes, the plan pins {size}", permanent: true);
        }

        var digest = await DigestOfAsync(part, cancellationToken).ConfigureAwait(false);
        if (digest != request.Digest)
        {
            File.Delete(part);
            throw new UpgradeStepException("download", $"{Redact(request.Url)}: the artifact's digest is {digest}, the plan pins {request.Digest}", permanent: true);
        }

        File.Move(part, final, overwrite: true);
        Transactions.DurableFile.FlushDirectory(directory);
        return new DownloadResult(final, total, fetched, resumedFrom);
    }

    /// <summary>One attempt: continues <paramref name="part"/> from its length; returns the bytes it added.</summary>
    private async Task<long> FetchOnceAsync(DownloadRequest request, string part, CancellationToken cancellationToken)
    {
        var offset = File.Exists(part) ? new FileInfo(part).Length : 0;
        if (request.Size is { } size && offset > size)
        {
            File.Delete(part);
            offset = 0;
        }

        if (request.Size is { } complete && offset == complete)
        {
            return 0;
        }

        var free = FreeBytes(directory);
        if (request.Size is { } needed && free is { } available && needed - offset > available)
        {
            throw new UpgradeStepException("download",
                $"the state folder {directory} has {available} bytes free; the artifact needs {needed - offset} more", permanent: false);
        }

        if (request.Url.IsFile)
        {
            await using var input = OpenLocal(request.Url);
            input.Seek(offset, SeekOrigin.Begin);
            return await CopyAsync(input, part, offset, request, cancellationToken).ConfigureAwait(false);
        }

        using var message = new HttpRequestMessage(HttpMethod.Get, request.Url);
        if (offset > 0)
        {
            message.Headers.Range = new RangeHeaderValue(offset, null);
        }

        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The server has no bytes past what is kept: whatever is kept is checked as the whole.
            return 0;
        }

        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            var message2 = $"{Redact(request.Url)}: the server answered {status} {response.ReasonPhrase}";
            throw status is 408 or 429 or >= 500
                ? new HttpRequestException(message2, null, response.StatusCode)
                : new UpgradeStepException("download", message2, permanent: true);
        }

        if (response.StatusCode != HttpStatusCode.PartialContent || response.Content.Headers.ContentRange?.From != offset)
        {
            offset = 0; // the server sends the whole artifact: start over
        }

        var announced = response.Content.Headers.ContentRange?.Length ?? (offset == 0 ? response.Content.Headers.ContentLength : null);
        if (request.Size is { } expected && announced is { } length && length != expected)
        {
            throw new UpgradeStepException("download", $"{Redact(request.Url)}: the server announces {length} bytes, the plan pins {expected}", permanent: true);
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await CopyAsync(body, part, offset, request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<long> CopyAsync(Stream input, string part, long offset, DownloadRequest request, CancellationToken cancellationToken)
    {
        var bytesPerSecond = request.MaxKbps is { } kbps ? kbps * 1000 / 8.0 : double.PositiveInfinity;
        var chunk = (int)Math.Clamp(bytesPerSecond / 20, 1024, ChunkBytes);
        var buffer = new byte[chunk];
        long added = 0;
        var clock = Stopwatch.StartNew();
        await using var output = new FileStream(part, offset == 0 ? FileMode.Create : FileMode.Open, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        output.Seek(offset, SeekOrigin.Begin);
        output.SetLength(offset);
        try
        {
            while (true)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                idle.CancelAfter(_options.IdleTimeout);
                int read;
                try
                {
                    read = await input.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no data for {_options.IdleTimeout.TotalSeconds:0.#} s");
                }

                if (read == 0)
                {
                    break;
                }

                if (request.Size is { } size && offset + added + read > size)
                {
                    throw new UpgradeStepException("download", $"{Redact(request.Url)}: the artifact is larger than the {size} bytes the plan pins", permanent: true);
                }

                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                added += read;
                _options.Progress?.Invoke(offset + added);
                if (!double.IsPositiveInfinity(bytesPerSecond))
                {
                    var due = TimeSpan.FromSeconds(added / bytesPerSecond) - clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        finally
        {
            // What arrived is kept for the next attempt, even when this one ends badly.
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            output.Flush(flushToDisk: true);
        }

        if (request.Size is { } whole && offset + added < whole)
        {
            throw new IOException($"the connection closed after {offset + added} of {whole} bytes");
        }

        return added;
    }

    private static FileStream OpenLocal(Uri url)
    {
        try
        {
            return new FileStream(url.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UpgradeStepException("download", $"{url.LocalPath}: no such file", permanent: true, ex);
        }
    }

    public static async Task<string> DigestOfAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    private static bool Transient(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && ex is HttpRequestException or TimeoutException or TaskCanceledException
            or IOException { HResult: not DiskFull and not DiskQuota };

    // ENOSPC and EDQUOT, as .NET reports them on Unix.
    private const int DiskFull = 28;
    private const int DiskQuota = 122;

    private static string Describe(Exception ex) => ex switch
    {
        TaskCanceledException => "the request timed out",
        HttpRequestException { InnerException: { } inner } http => $"{http.Message} ({inner.Message})",
        _ => ex.Message,
    };

    private static long? FreeBytes(string path)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(path)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A URL as logs and status may show it: no user info, no query (signed URLs carry tokens there).</summary>
    public static string Redact(Uri url) => url.IsFile ? url.LocalPath : url.GetLeftPart(UriPartial.Path).Replace(url.UserInfo + "@", string.Empty, StringComparison.Ordinal);

    private static string Hex(string digest) => digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..];
}

using System.Diagnostics;
using System.Security.Cryptography;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Reconciler.Tests.Upgrades;

/// <summary>Fetching upgrade artifacts: resume, bandwidth cap, retries, and every way a server or disk can let it down.</summary>
public sealed class UpgradeDownloadTests : IDisposable
{
    private readonly ArtifactServer _server = new();
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgeops-dl-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly byte[] _image = SimulatedDevice.Image("2026.11.2", 512 * 1024);

    public void Dispose()
    {
        _server.Dispose();
        _http.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private string Digest => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(_image));

    private ArtifactDownloader Downloader(TimeSpan? idle = null, Action<long>? progress = null) =>
        new(_http, _dir, new DownloaderOptions { Backoff = TimeSpan.FromMilliseconds(20), IdleTimeout = idle ?? TimeSpan.FromSeconds(10), Progress = progress });

    private DownloadRequest Request(long? size = null, string? digest = null, long? kbps = null, int retries = 3) =>
        new(_server.Add("os.img", _image), digest ?? Digest, size ?? _image.Length, kbps, retries);

    [Fact]
    public async Task Download_WholeArtifact_IsCheckedAndRenamedIntoPlace()
    {
        var result = await Downloader().FetchAsync(Request(), CancellationToken.None);

        Assert.Equal(ArtifactDownloader.FileFor(_dir, Digest), result.Path);
        Assert.Equal(_image, await File.ReadAllBytesAsync(result.Path));
        Assert.Equal((_image.Length, 0L), (result.Fetched, result.ResumedFrom));
        Assert.Empty(Directory.GetFiles(_dir, "*.part"));
    }

    [Fact]
    public async Task Download_CutAtHalf_ResumesWithARangeAndFetchesOnlyTheRest()
    {
        var half = _image.Length / 2;
        _server.Misbehave(new ServeMode { CutAfter = half, Times = 1 });

        var result = await Downloader().FetchAsync(Request(), CancellationToken.None);

        Assert.Equal(_image, await File.ReadAllBytesAsync(result.Path));
        Assert.Equal(2, _server.Requests);
        Assert.StartsWith("bytes=", _server.RangeHeaders[1], StringComparison.Ordinal);
        Assert.True(_server.BytesSent <= _image.Length * 1.01, $"sent {_server.BytesSent} for {_image.Length}");
    }

    [Fact]
    public async Task Download_InterruptedByARestart_ContinuesFromThePartialFile()
    {
        var half = _image.Length / 2;
        using (var cancel = new CancellationTokenSource())
        {
            var first = Downloader(progress: n =>
            {
                if (n >= half)
                {
                    cancel.Cancel();
                }
            });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.FetchAsync(Request(), cancel.Token));
        }

        var kept = new FileInfo(Directory.GetFiles(_dir, "*.part").Single()).Length;
        _server.ResetCounters();

        var result = await Downloader().FetchAsync(Request(), CancellationToken.None);

        Assert.Equal(_image, await File.ReadAllBytesAsync(result.Path));
        Assert.Equal(kept, result.ResumedFrom);
        Assert.Equal($"bytes={kept}-", _server.RangeHeaders.Single());
        Assert.Equal(_image.Length - kept, _server.BytesSent);
    }

    [Fact]
    public async Task Download_ServerIgnoringRange_StartsOverAndStillVerifies()
    {
        _server.Misbehave(new ServeMode { CutAfter = 100_000, Times = 1 });
        await Assert.ThrowsAsync<UpgradeStepException>(() => Downloader().FetchAsync(Request(retries: 0), CancellationToken.None));
        _server.Misbehave(new ServeMode { IgnoreRange = true });

        var result = await Downloader().FetchAsync(Request(), CancellationToken.None);

        Assert.Equal(_image, await File.ReadAllBytesAsync(result.Path));
    }

    [Fact]
    public async Task Download_BandwidthCap_IsRespected()
    {
        var small = _image.AsSpan(0, 96 * 1024).ToArray();
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(small));
        var url = _server.Add("small.img", small);
        var watch = Stopwatch.StartNew();

        await Downloader().FetchAsync(new DownloadRequest(url, digest, small.Length, MaxKbps: 512, Retries: 0), CancellationToken.None);

        // 96 KiB at 512 kbit/s (64,000 bytes/s) cannot take less than 1.5 s.
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.4), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Download_NotFound_FailsPermanentlyWithoutRetrying()
    {
        _server.Misbehave(new ServeMode { Status = 404 });

        var error = await Assert.ThrowsAsync<UpgradeStepException>(() => Downloader().FetchAsync(Request(), CancellationToken.None));

        Assert.True(error.Permanent);
        Assert.Contains("answered 404", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, _server.Requests);
    }

    [Fact]
    public async Task Download_ServerErrors_AreRetriedWithBackoffThenKeptForLater()
    {
        _server.Misbehave(new ServeMode { Status = 503 });

        var error = await Assert.ThrowsAsync<UpgradeStepException>(() => Downloader().FetchAsync(Request(retries: 2), CancellationToken.None));

        Assert.False(error.Permanent);
        Assert.Contains("after 3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _server.Requests);
    }

    [Fact]
    public async Task Download_StalledServer_TimesOutAndResumes()
    {
        _server.Misbehave(new ServeMode { StallAfter = 200_000, Times = 1 });

        var result = await Downloader(idle: TimeSpan.FromMilliseconds(500)).FetchAsync(Request(), CancellationToken.None);

        Assert.Equal(_image, await File.ReadAllBytesAsync(result.Path));
        Assert.Equal(2, _server.Requests);
        Assert.NotNull(_server.RangeHeaders[1]);
    }

    [Fact]
    public async Task Download_SlowServer_CompletesWhileItKeepsSending()
    {
        _server.Misbehave(new ServeMode { BytesPerSecond = 400_000 });

        var result = await Downloader(idle: TimeSpan.FromSeconds(1)).FetchAsync(Request(), CancellationToken.None);

        Assert.Equal(_image, await File.ReadAllBytesAsync(result.Path));
        Assert.Equal(1, _server.Requests);
    }

    [Fact]
    public async Task Download_TruncatedEveryTime_GivesUpButKeepsWhatArrived()
    {
        _server.Misbehave(new ServeMode { CutAfter = 64 * 1024, IgnoreRange = true });

        var error = await Assert.ThrowsAsync<UpgradeStepException>(() => Downloader().FetchAsync(Request(retries: 1), CancellationToken.None));

        Assert.False(error.Permanent);
        Assert.Contains("bytes kept to resume", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(ArtifactDownloader.FileFor(_dir, Digest)));
    }

    [Fact]
    public async Task Download_WrongDigest_IsDeletedAndFailsPermanently()
    {
        var wrong = "sha256:" + new string('0', 64);

        var error = await Assert.ThrowsAsync<UpgradeStepException>(() => Downloader().FetchAsync(Request(digest: wrong), CancellationToken.None));

        Assert.True(error.Permanent);
        Assert.Contains($"the artifact's digest is {Digest}, the plan pins {wrong}", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData(-1000)]
    [InlineData(1000)]
    public async Task Download_WrongSize_FailsPermanently(int delta)
    {
        var error = await Assert.ThrowsAsync<UpgradeStepException>(() => Downloader().FetchAsync(Request(size: _image.Length + delta), CancellationToken.None));

        Assert.True(error.Permanent);
        Assert.Contains($"the plan pins {_image.Length + delta}", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(ArtifactDownloader.FileFor(_dir, Digest)));
    }

    [Fact]
    public async Task Download_FileUrl_IsCopiedAndChecked()
    {
        Directory.CreateDirectory(_dir);
        var source = Path.Combine(_dir, "source.img");
        await File.WriteAllBytesAsync(source, _image);

        var result = await Downloader().FetchAsync(new DownloadRequest(new Uri(source), Digest, _image.Length, null, 0), CancellationToken.None);

        Assert.Equal(_image, await File.ReadAllBytesAsync(result.Path));
    }

    [Fact]
    public async Task Download_FullStateFolder_FailsClearlyAndRetriesLater()
    {
        using var small = TmpfsMount.Create(256 * 1024);

        var downloader = new ArtifactDownloader(_http, small.Path, new DownloaderOptions { Backoff = TimeSpan.FromMilliseconds(10) });
        var error = await Assert.ThrowsAsync<UpgradeStepException>(() => downloader.FetchAsync(Request(), CancellationToken.None));

        Assert.False(error.Permanent);
        Assert.Contains("bytes free; the artifact needs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_DiskFillingUpMidway_FailsWithTheDiskError()
    {
        using var small = TmpfsMount.Create(256 * 1024);

        // Unknown size: nothing to check beforehand, so the disk fills while streaming.
        var downloader = new ArtifactDownloader(_http, small.Path, new DownloaderOptions { Backoff = TimeSpan.FromMilliseconds(10) });
        var error = await Assert.ThrowsAsync<IOException>(() => downloader.FetchAsync(Request(size: null) with { Size = null }, CancellationToken.None));

        Assert.Contains("space", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>A small tmpfs, to fill a "state folder" for real (the tests run as root, as the agent does on a device).</summary>
public sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static TmpfsMount Create(long bytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "edgeops-full-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(path);
        using var mount = Process.Start("mount", ["-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path])!;
        mount.WaitForExit();
        Assert.True(mount.ExitCode == 0, "mount -t tmpfs failed: the upgrade tests need root, as the agent on a device has");
        return new TmpfsMount(path);
    }

    public void Dispose()
    {
        using var umount = Process.Start("umount", [Path])!;
        umount.WaitForExit();
        Directory.Delete(Path, recursive: true);
    }
}

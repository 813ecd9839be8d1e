using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EdgeOps.Reconciler.Source;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Source;

/// <summary>The Git source against real repositories and a real <c>git daemon</c> on loopback.</summary>
public sealed class GitSourceTests : IDisposable
{
    private readonly TempFleet _remote = new();
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "edgeops-cache-" + Guid.NewGuid().ToString("N")[..10], "fleet.git");

    public GitSourceTests()
    {
        _remote.Cluster("a");
        _remote.Commit("first");
    }

    private GitSource Source(string? url = null, string branch = "main") =>
        new(new GitSourceOptions { Url = url ?? _remote.Root, Branch = branch, CacheDirectory = _cache });

    [Fact]
    public void Sync_FromAPath_ClonesThenFetchesNewCommits()
    {
        var source = Source();
        var first = source.Sync();
        Assert.Equal((true, _remote.Git("rev-parse", "HEAD")), (first.Online, first.Revision));

        _remote.Cluster("b");
        var second = _remote.Commit("second");

        Assert.Equal(second, source.Sync().Revision);
        Assert.True(Directory.Exists(Path.Combine(_cache, "objects")), "the cache is a bare repository");
    }

    [Fact]
    public void Sync_OverGitDaemon_WorksAndKeepsTheLastRevisionWhenTheServerGoesAway()
    {
        using var daemon = GitDaemon.Start(Path.GetDirectoryName(_remote.Root)!);
        var source = Source($"git://127.0.0.1:{daemon.Port}/{Path.GetFileName(_remote.Root)}");
        var online = source.Sync();
        Assert.True(online.Online, online.Error);

        daemon.Dispose();
        _remote.Cluster("c");
        _remote.Commit("pushed while offline");
        var offline = source.Sync();

        Assert.False(offline.Online);
        Assert.Equal(online.Revision, offline.Revision);
        Assert.StartsWith($"cannot reach git://127.0.0.1:{daemon.Port}/", offline.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Sync_UnreachableAtFirstStart_SaysSoAndHasNoRevision()
    {
        var state = Source("git://127.0.0.1:1/nothing").Sync();

        Assert.Equal((false, (string?)null), (state.Online, state.Revision));
        Assert.NotNull(state.Error);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("half-written")]
    public void Sync_BrokenCache_IsRebuilt(string damage)
    {
        var source = Source();
        var good = source.Sync().Revision;
        if (damage == "garbage")
        {
            File.WriteAllText(Path.Combine(_cache, "HEAD"), "not a ref\n");
            foreach (var pack in Directory.GetFiles(Path.Combine(_cache, "objects"), "*", SearchOption.AllDirectories))
            {
                // Replace rather than overwrite: a clone from a local path hard-links the remote's objects.
                File.Delete(pack);
                File.WriteAllText(pack, "x");
            }
        }
        else
        {
            Directory.Delete(_cache, recursive: true);
            Directory.CreateDirectory(Path.Combine(_cache, "objects"));
            File.WriteAllText(Path.Combine(_cache, "config"), "[core");
        }

        var state = source.Sync();

        Assert.True(state.Online, state.Error);
        Assert.Equal(good, state.Revision);
    }

    [Fact]
    public void Judge_RefusesHistoryThatGoesBackInTime()
    {
        var source = Source();
        var first = source.Sync().Revision!;
        _remote.Cluster("b");
        var second = _remote.Commit("second");
        source.Sync();
        _remote.Git("reset", "-q", "--hard", first);
        _remote.Cluster("rewritten");
        var rewritten = _remote.Commit("rewritten history");
        var state = source.Sync();

        Assert.Equal(rewritten, state.Revision);
        Assert.Equal(HeadVerdict.Accept, source.Judge(second, first));
        Assert.Equal(HeadVerdict.Unchanged, source.Judge(second, second));
        Assert.Equal(HeadVerdict.NotDescendant, source.Judge(first, second));
        Assert.Equal(HeadVerdict.NotDescendant, source.Judge(rewritten, second));
    }

    [Fact]
    public void Sync_DeletedBranch_IsReported()
    {
        _remote.Git("checkout", "-q", "-b", "edge");
        _remote.Commit("on edge");
        var source = Source(branch: "edge");
        Assert.NotNull(source.Sync().Revision);
        _remote.Git("checkout", "-q", "main");
        _remote.Git("branch", "-q", "-D", "edge");

        var state = source.Sync();

        Assert.True(state.Online);
        Assert.Null(state.Revision);
        Assert.StartsWith($"branch 'edge' does not exist on {_remote.Root}; check --branch", state.Error, StringComparison.Ordinal);
        Assert.True(state.Missing, "a missing branch is a configuration error, not an outage");
    }

    [Fact]
    public void Errors_NeverShowCredentials()
    {
        var state = Source("http://fleet-bot:s3cr3t-token@127.0.0.1:1/fleet.git").Sync();

        Assert.DoesNotContain("s3cr3t-token", state.Error, StringComparison.Ordinal);
        Assert.Contains("http://***@127.0.0.1:1/fleet.git", state.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Sync_OverSmartHttpWithCredentials_ClonesAndFetchesIncrementally()
    {
        using var http = new Infrastructure.GitHttpBackend(Path.GetDirectoryName(_remote.Root)!, "fleet-bot:s3cr3t");
        var url = new Uri(http.Uri, Path.GetFileName(_remote.Root)).ToString();
        var credentials = Path.Combine(Path.GetDirectoryName(_cache)!, "credentials");
        Directory.CreateDirectory(Path.GetDirectoryName(credentials)!);
        File.WriteAllText(credentials, "fleet-bot:s3cr3t\n");
        var source = new GitSource(new GitSourceOptions { Url = url, Branch = "main", CacheDirectory = _cache, CredentialsFile = credentials });

        var first = source.Sync();
        Assert.True(first.Online, first.Error);
        var cloneBytes = http.Bytes.Sent;
        http.ResetCounters();
        var idle = source.Sync();
        var idleBytes = http.Bytes.Sent;
        _remote.Write("clusters/a.yaml", File.ReadAllText(Path.Combine(_remote.Root, "clusters/a.yaml")) + "# touched\n");
        var changed = _remote.Commit("one-file change");
        http.ResetCounters();

        Assert.Equal(first.Revision, idle.Revision);
        Assert.Equal(changed, source.Sync().Revision);
        Assert.True(http.Bytes.Sent < cloneBytes, $"an incremental fetch sent {http.Bytes.Sent} bytes, the clone {cloneBytes}");
        Assert.True(idleBytes < 2048, $"an idle poll sent {idleBytes} bytes");
    }

    [Fact]
    public void Sync_RepositoryTheServerDoesNotHave_IsMissingNotOffline()
    {
        using var http = new Infrastructure.GitHttpBackend(Path.GetDirectoryName(_remote.Root)!);
        var url = new Uri(http.Uri, "no-such-fleet").ToString();
        var source = new GitSource(new GitSourceOptions { Url = url, Branch = "main", CacheDirectory = _cache, CredentialsEnvironmentVariable = null });

        var state = source.Sync();

        Assert.True(state.Missing, state.Error);
        Assert.True(state.Online);
        Assert.StartsWith($"the repository {url} does not exist", state.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Sync_WithoutABranch_FollowsTheRemotesDefaultBranch()
    {
        _remote.Git("branch", "-q", "-m", "main", "trunk");
        var source = new GitSource(new GitSourceOptions { Url = _remote.Root, CacheDirectory = _cache });

        var state = source.Sync();

        Assert.Equal(_remote.Git("rev-parse", "trunk"), state.Revision);
    }

    [Fact]
    public void Sync_OverSmartHttpWithoutCredentials_IsRefusedWithoutLeakingAnything()
    {
        using var http = new Infrastructure.GitHttpBackend(Path.GetDirectoryName(_remote.Root)!, "fleet-bot:s3cr3t");
        var url = new Uri(http.Uri, Path.GetFileName(_remote.Root)).ToString();

        var state = new GitSource(new GitSourceOptions { Url = url, CacheDirectory = _cache, CredentialsEnvironmentVariable = null }).Sync();

        Assert.False(state.Online);
        Assert.Null(state.Revision);
    }

    [Theory]
    [InlineData(null, "(the credentials file CREDENTIALS does not exist)")]
    [InlineData("fleet-bot:wrong-token", "(the server refused the credentials in CREDENTIALS)")]
    [InlineData("fleet-bot:s3cr3t", null)]
    public void Sync_OverSmartHttp_SaysWhereRefusedOrMissingCredentialsCameFrom(string? written, string? hint)
    {
        using var http = new Infrastructure.GitHttpBackend(Path.GetDirectoryName(_remote.Root)!, "fleet-bot:s3cr3t");
        var url = new Uri(http.Uri, Path.GetFileName(_remote.Root)).ToString();
        var credentials = Path.Combine(Path.GetDirectoryName(_cache)!, "credentials");
        Directory.CreateDirectory(Path.GetDirectoryName(credentials)!);
        if (written is not null)
        {
            File.WriteAllText(credentials, written + "\n");
        }

        var state = new GitSource(new GitSourceOptions { Url = url, Branch = "main", CacheDirectory = _cache, CredentialsFile = credentials }).Sync();

        if (hint is null)
        {
            Assert.True(state.Online, state.Error);
            Assert.Null(state.Error);
            return;
        }

        Assert.False(state.Online);
        Assert.Null(state.Revision);
        Assert.EndsWith(hint.Replace("CREDENTIALS", credentials, StringComparison.Ordinal), state.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-token", state.Error, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _remote.Dispose();
        var root = Path.GetDirectoryName(_cache)!;
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A real <c>git daemon</c> serving a folder on a loopback port.</summary>
    private sealed class GitDaemon : IDisposable
    {
        private readonly Process _process;

        private GitDaemon(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static GitDaemon Start(string basePath)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var psi = new ProcessStartInfo("git") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", $"--port={port}", $"--base-path={basePath}", basePath })
            {
                psi.ArgumentList.Add(a);
            }

            var process = Process.Start(psi)!;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    using var client = new TcpClient();
                    client.Connect(IPAddress.Loopback, port);
                    return new GitDaemon(process, port);
                }
                catch (SocketException)
                {
                    Thread.Sleep(50);
                }
            }

            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("git daemon did not start");
        }

        private bool _disposed;

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}

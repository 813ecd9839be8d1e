using System.Diagnostics;
using System.Text.Json;
using EdgeOps.Collector.Tests.Infrastructure;
using EdgeOps.Reconciler.Status;
using EdgeOps.Tests;

namespace EdgeOps.Collector.Tests;

/// <summary>
/// The collector and the operator's commands as shipped: <c>edgeops collector</c> as a process, <c>edgeops rollout
/// status|halt|resume</c> and <c>edgeops status --collector</c> against it, and the bad inputs each refuses with a
/// clear message and exit 2.
/// </summary>
public sealed class CollectorCommandTests : IDisposable
{
    private readonly TempFleet _repo = new(withFleet: false);
    private readonly string _root = Directory.CreateTempSubdirectory("edgeops-collector-cli-").FullName;

    public CollectorCommandTests()
    {
        _repo.WaveFleet([("canary", "canary")]);
    }

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private static ProcessStartInfo Edgeops(params string[] args) =>
        new("dotnet", [Path.Combine(AppContext.BaseDirectory, "edgeops.dll"), .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };

    private static async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        using var process = Process.Start(Edgeops(args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task CollectorProcess_ServesTheRolloutAndStatusCommands_AndStopsCleanly()
    {
        using var key = ReportKey.Create(_root, "robot-1");
        _repo.Cluster("robot-1", "ring: canary", $"reportKey: \"{key.PublicLine}\"");
        _repo.Cluster("robot-2", "ring: main", $"reportKey: \"{key.PublicLine}\"");
        var head = _repo.Commit("fleet");
        using var collector = Process.Start(Edgeops("collector", "--fleet", _repo.Root, "--branch", "main", "--db", "sqlite:" + Path.Combine(_root, "c.db"),
            "--listen", "127.0.0.1:0", "--state-dir", Path.Combine(_root, "state")))!;
        try
        {
            var banner = await collector.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) ?? string.Empty;
            Assert.StartsWith("collector listening on http://127.0.0.1:", banner, StringComparison.Ordinal);
            Assert.Contains("fleet 'orchard'", banner, StringComparison.Ordinal);
            Assert.Contains("(2 clusters)", banner, StringComparison.Ordinal);
            var url = banner["collector listening on ".Length..banner.IndexOf(": fleet", StringComparison.Ordinal)];
            using var client = new CollectorClient(new Uri(url));
            var (body, signature) = key.Sign(new AgentReport { Cluster = "robot-1", Sequence = 1, Applied = head, Outcome = "Applied", Healthy = true });
            await client.SendReportAsync(body, signature, CancellationToken.None);

            var status = await RunAsync("status", "--collector", url);
            var json = await RunAsync("status", "--collector", url, "--wave", "canary", "-o", "json");
            var rollout = await RunAsync("rollout", "status", "current", "--collector", url);
            var halt = await RunAsync("rollout", "halt", head, "--collector", url, "--reason", "camera crashes", "-o", "json");
            var resume = await RunAsync("rollout", "resume", head, "--collector", url);

            Assert.Equal(1, status.Code); // robot-2 never reported: it needs attention
            Assert.Contains("robot-1  canary", status.Out, StringComparison.Ordinal);
            Assert.Contains("2 clusters, 1 healthy and reporting, 1 need attention", status.Out, StringComparison.Ordinal);
            Assert.Equal(0, json.Code);
            Assert.Equal("robot-1", Assert.Single(JsonSerializer.Deserialize(json.Out, CollectorJson.Default.ListClusterRow)!).Cluster);
            Assert.Equal(0, rollout.Code);
            Assert.Contains($"rollout of {head}", rollout.Out, StringComparison.Ordinal);
            Assert.Matches(@"canary\s+passed\s+1\s+1\s+1", rollout.Out);
            Assert.Equal(0, halt.Code);
            Assert.Equal((true, "camera crashes"), JsonSerializer.Deserialize(halt.Out, CollectorJson.Default.RolloutStatus) is { } h ? (h.Halted, h.HaltReason) : default);
            Assert.Equal(0, resume.Code);
            Assert.DoesNotContain("HALTED", resume.Out, StringComparison.Ordinal);
        }
        finally
        {
            // SIGTERM: a clean stop.
            Process.Start("kill", ["-TERM", collector.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            await collector.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, collector.ExitCode);
    }

    [Theory]
    [InlineData("--db", "mysql://db/edgeops", "--db must be sqlite:PATH or postgres://")]
    [InlineData("--db", "sqlite:", "--db sqlite:PATH needs a file path")]
    [InlineData("--db", "postgres://edgeops:s3cret@[db/edgeops", "--db postgres://… is not a URL: write postgres://user[:password]@host[:port]/database")]
    [InlineData("--db", "postgres:Hots=db;Password=s3cret", "--db postgres:KEY=VALUE;… is not a connection string Npgsql takes")]
    [InlineData("--db", "postgres://edgeops@db/edgeops?sslmod=require", "--db postgres://…?sslmod=…: 'sslmod' is not a connection parameter Npgsql takes")]
    [InlineData("--db", "postgres://edgeops@db/edgeops?sslmode=s3cret", "--db postgres://…?sslmode=…: 'sslmode' is not a connection parameter Npgsql takes, or its value is not one it allows")]
    [InlineData("--listen", "localhost", "--listen must be ADDRESS:PORT")]
    [InlineData("--stale-after", "soon", "--stale-after: 'soon' is not a duration")]
    [InlineData("--fleet", "/nonexistent/fleet", "fleet repo /nonexistent/fleet")]
    public async Task Collector_BadInput_IsAUsageErrorSayingWhich(string option, string value, string message)
    {
        _repo.Commit("fleet");
        string[] args = ["collector", "--fleet", _repo.Root, "--branch", "main", "--db", "sqlite:" + Path.Combine(_root, "c.db"), "--listen", "127.0.0.1:0", "--state-dir", Path.Combine(_root, "state")];
        var index = Array.IndexOf(args, option);
        if (index >= 0)
        {
            args[index + 1] = value;
        }
        else
        {
            args = [.. args, option, value];
        }

        var (code, _, error) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Collector_OnADatabaseANewerCollectorMigrated_RefusesToStart_AndLeavesItAlone()
    {
        _repo.Commit("fleet");
        var db = Path.Combine(_root, "newer.db");
        await using (var store = Storage.ReportStore.Open("sqlite:" + db))
        {
            await store.MigrateAsync(CancellationToken.None);
            await store.UpsertAsync([new Storage.StoredReport("robot-1", 3, DateTimeOffset.UtcNow, "{}")], CancellationToken.None);
        }

        var next = Storage.Migrations.Latest + 1;
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + db + ";Pooling=false"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"INSERT INTO schema_migrations (version, applied_at) VALUES ({next}, 0)";
            command.ExecuteNonQuery();
        }

        var (code, _, error) = await RunAsync("collector", "--fleet", _repo.Root, "--branch", "main", "--db", "sqlite:" + db, "--listen", "127.0.0.1:0", "--state-dir", Path.Combine(_root, "state"));

        Assert.Equal(2, code);
        Assert.Contains($"the database is at schema version {next}, newer than this collector knows ({Storage.Migrations.Latest}); a newer collector has used it", error, StringComparison.Ordinal);
        await using var after = Storage.ReportStore.Open("sqlite:" + db);
        Assert.Equal(3, await after.SequenceOfAsync("robot-1", CancellationToken.None));
    }

    [Theory]
    [InlineData("rollout|status|current|--collector|http://127.0.0.1:9", "unreachable")]
    [InlineData("rollout|halt|abc|--collector|ftp://collector", "--collector must be an http(s) URL")]
    [InlineData("status|--collector|not a url", "--collector must be an http(s) URL")]
    [InlineData("status", "status needs a folder of status reports, or --collector URL")]
    [InlineData("reconcile|--repo|/tmp/x|--cluster|c|--once|--collector|http://127.0.0.1:9", "--collector needs --report-key")]
    public async Task OperatorCommands_BadInput_IsAUsageErrorSayingWhich(string args, string message)
    {
        var (code, _, error) = await RunAsync(args.Split('|'));

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }
}

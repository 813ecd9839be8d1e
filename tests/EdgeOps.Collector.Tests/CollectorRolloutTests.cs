using System.Net;
using System.Text;
using EdgeOps.Collector.Tests.Infrastructure;
using EdgeOps.Reconciler.Status;
using EdgeOps.Tests;

namespace EdgeOps.Collector.Tests;

/// <summary>
/// Rollouts through the collector's API: a wave's failures halt the rollout (kept across a restart), receipts tell
/// agents which named revisions are halted and carry the gates, the operator halts and resumes (loopback, or with
/// the admin token), and a fleet of 10,000 clusters reports on both databases.
/// </summary>
[Collection("postgres")]
public sealed class CollectorRolloutTests(PostgresServer postgres) : IDisposable
{
    private const string Rev = "0123456789abcdef0123456789abcdef01234567";
    private readonly TempFleet _repo = new(withFleet: false);
    private readonly string _keys = Directory.CreateTempSubdirectory("edgeops-keys-").FullName;

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_keys, recursive: true);
    }

    /// <summary>A fleet with a canary wave and a main wave; every cluster reports with <paramref name="key"/>.</summary>
    private void WriteFleet(ReportKey key, int canaries, int mains)
    {
        _repo.WaveFleet([("canary", "canary"), ("main", "main")]);
        var clusters = new StringBuilder();
        foreach (var (name, ring) in Enumerable.Range(1, canaries).Select(i => ($"canary-{i}", "canary")).Concat(Enumerable.Range(1, mains).Select(i => ($"main-{i}", "main"))))
        {
            clusters.Append($"apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n  labels: {{ring: {ring}}}\nspec:\n  reportKey: \"{key.PublicLine}\"\n---\n");
        }

        _repo.Write("clusters/all.yaml", clusters.ToString());
        _repo.Commit("fleet");
    }

    private static AgentReport Report(string cluster, long sequence, string? applied, string outcome, string? attempted = null) => new()
    {
        Cluster = cluster,
        Sequence = sequence,
        Applied = applied,
        Attempted = attempted ?? applied,
        Outcome = outcome,
        Healthy = outcome is "Applied" or "Unchanged",
        Rollout = new RolloutPosition { Revision = Rev, Wave = cluster.StartsWith("canary", StringComparison.Ordinal) ? 0 : 1, Verdict = "Proceed" },
    };

    [Fact]
    public async Task CanaryFailure_HaltsTheRollout_ReceiptsSaySo_AndTheHaltSurvivesARestart()
    {
        using var key = ReportKey.Create(_keys, "fleet-key");
        WriteFleet(key, canaries: 2, mains: 2);
        var database = "sqlite:" + Path.Combine(_keys, "halt.db");
        await using (var bed = await CollectorBed.StartAsync(_repo, database))
        {
            var (before, beforeSignature) = key.Sign(Report("canary-2", 1, "older", "Applied") with { Rollout = null });
            await bed.Client.SendReportAsync(before, beforeSignature, CancellationToken.None);
            var (healthy, healthySignature) = key.Sign(Report("canary-1", 1, Rev, "Applied"));
            var first = await bed.Client.SendReportAsync(healthy, healthySignature, CancellationToken.None);
            var (failed, failedSignature) = key.Sign(Report("canary-2", 2, "older", "RolledBack", attempted: Rev));
            var second = await bed.Client.SendReportAsync(failed, failedSignature, CancellationToken.None);

            Assert.Empty(first.Halted);
            Assert.Equal("open", first.Rollout!.Waves[0].Gate);
            Assert.Equal(Rev, Assert.Single(second.Halted));
            Assert.True(second.Rollout!.Halted);
            Assert.Contains("more than maxFailures 0", (await bed.Client.GetRolloutAsync(Rev, CancellationToken.None)).HaltReason, StringComparison.Ordinal);
        }

        await using var restarted = await CollectorBed.StartAsync(_repo, database);
        var rollout = await restarted.Client.GetRolloutAsync(Rev, CancellationToken.None);
        var (again, againSignature) = key.Sign(Report("canary-1", 2, Rev, "Applied"));
        var receipt = await restarted.Client.SendReportAsync(again, againSignature, CancellationToken.None);

        Assert.True(rollout.Halted);
        Assert.Equal(["halted", "pending"], rollout.Waves.Select(w => w.Gate));
        Assert.Equal(Rev, Assert.Single(receipt.Halted)); // the healthy canary that applied it learns it must roll back
    }

    [Fact]
    public async Task OperatorHalt_AndResume_FromLoopback_AndOnlyWithTheTokenWhenOneIsSet()
    {
        using var key = ReportKey.Create(_keys, "fleet-key");
        WriteFleet(key, canaries: 1, mains: 1);
        await using (var open = await CollectorBed.StartAsync(_repo))
        {
            var halted = await open.Client.HaltAsync(Rev, "bad telemetry", CancellationToken.None);
            var resumed = await open.Client.ResumeAsync(Rev, CancellationToken.None);

            Assert.Equal((true, "bad telemetry"), (halted.Halted, halted.HaltReason));
            Assert.False(resumed.Halted);
            Assert.Equal("open", resumed.Waves[0].Gate);
        }

        var token = "s3cret-token-of-the-operator";
        await using var guarded = await CollectorBed.StartAsync(_repo, settings: new CollectorSettings { AdminToken = token });
        var refused = await Assert.ThrowsAsync<CollectorRejectedException>(() => guarded.Client.HaltAsync(Rev, null, CancellationToken.None));
        using var withToken = new CollectorClient(guarded.Url, token: token);
        var allowed = await withToken.HaltAsync(Rev, null, CancellationToken.None);

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal((true, "halted by the operator"), (allowed.Halted, allowed.HaltReason));
        var notACommit = await Assert.ThrowsAsync<CollectorRejectedException>(() => withToken.HaltAsync("main", null, CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, notACommit.Status);
        Assert.Contains("not a full commit id", notACommit.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"reason\": ", "the halt request is not valid JSON (Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed (line 1, byte 12)): send {\"reason\": \"…\"} or nothing")]
    [InlineData("{\"reason\": 5}", "the halt request's reason is a JSON number, not a string: send {\"reason\": \"…\"} or nothing")]
    [InlineData("null", "the halt request is a JSON null, not an object: send {\"reason\": \"…\"} or nothing")]
    [InlineData("[\"camera\"]", "the halt request is a JSON array, not an object: send {\"reason\": \"…\"} or nothing")]
    [InlineData("LONG", "the halt reason is 1025 characters; it may be at most 1024")]
    [InlineData("HUGE", "the halt request is larger than 16384 bytes: send {\"reason\": \"…\"} or nothing")]
    public async Task HaltRequest_ThatIsNotAReason_IsRefusedInWords_AndHaltsNothing(string body, string expected)
    {
        using var key = ReportKey.Create(_keys, "fleet-key");
        WriteFleet(key, canaries: 1, mains: 1);
        await using var bed = await CollectorBed.StartAsync(_repo);
        body = body switch
        {
            "LONG" => $"{{\"reason\": \"{new string('r', CollectorHost.MaxHaltReasonLength + 1)}\"}}",
            "HUGE" => $"{{\"reason\": \"{new string('r', 20_000)}\"}}",
            _ => body,
        };
        using var http = new HttpClient { BaseAddress = bed.Url };

        using var response = await http.PostAsync($"v1/rollouts/{Rev}/halt", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = System.Text.Json.JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), CollectorJson.Default.ApiProblem)!;
        Assert.Equal(expected, problem.Detail);
        Assert.False((await bed.Client.GetRolloutAsync(Rev, CancellationToken.None)).Halted);
        // A reason of exactly the limit, or none at all, halts.
        var atLimit = await bed.Client.HaltAsync(Rev, new string('r', CollectorHost.MaxHaltReasonLength), CancellationToken.None);
        Assert.True(atLimit.Halted);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TenThousandClusters_Report_AndAreAllListed(string database)
    {
        using var key = ReportKey.Create(_keys, "fleet-key");
        WriteFleet(key, canaries: 100, mains: 9_900);
        await using var bed = await CollectorBed.StartAsync(_repo, database == "postgres" ? await postgres.NewDatabaseAsync() : null);
        var names = Enumerable.Range(1, 100).Select(i => $"canary-{i}").Concat(Enumerable.Range(1, 9_900).Select(i => $"main-{i}")).ToList();

        var refused = 0;
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (name, cancellationToken) =>
        {
            var (body, signature) = key.Sign(Report(name, 1, Rev, "Applied"));
            using var response = await bed.PostAsync(body, signature);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Interlocked.Increment(ref refused);
            }
        });
        var rows = await bed.Client.GetClustersAsync(null, CancellationToken.None);
        var rollout = await bed.Client.GetRolloutAsync(Rev, CancellationToken.None);

        Assert.Equal(0, refused);
        Assert.Equal(10_000, rows.Count(r => !r.Silent && r.Report!.Applied == Rev));
        Assert.Equal(["passed", "passed"], rollout.Waves.Select(w => w.Gate));
        Assert.Equal([100, 9_900], rollout.Waves.Select(w => w.Healthy));
    }

    [Fact]
    public async Task TwoReplicasOnOnePostgreSQL_SeeEachOthersReports_AndHalts()
    {
        using var key = ReportKey.Create(_keys, "fleet-key");
        WriteFleet(key, canaries: 1, mains: 1);
        var database = await postgres.NewDatabaseAsync();
        var settings = new CollectorSettings { CacheFor = TimeSpan.Zero };
        await using var first = await CollectorBed.StartAsync(_repo, database, settings: settings);
        await using var second = await CollectorBed.StartAsync(_repo, database, settings: settings);
        var (body, signature) = key.Sign(Report("canary-1", 1, Rev, "Applied"));

        await first.Client.SendReportAsync(body, signature, CancellationToken.None);
        var replay = await second.PostAsync(body, signature);
        var seen = await second.Client.GetClustersAsync("wave=canary", CancellationToken.None);
        await second.Client.HaltAsync(Rev, "from the other replica", CancellationToken.None);
        var halted = await first.Client.GetRolloutAsync(Rev, CancellationToken.None);

        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode); // the replay check is the database's, not a replica's
        Assert.Equal(Rev, Assert.Single(seen).Report!.Applied);
        Assert.Equal((true, "from the other replica"), (halted.Halted, halted.HaltReason));
    }
}

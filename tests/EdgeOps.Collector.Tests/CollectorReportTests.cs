using System.Net;
using System.Text.Json;
using EdgeOps.Collector.Tests.Infrastructure;
using EdgeOps.Reconciler.Status;
using EdgeOps.Tests;

namespace EdgeOps.Collector.Tests;

/// <summary>
/// The collector's intake on both databases: a report signed by the key its Cluster lists is stored and listed; an
/// unsigned, unknown, wrongly signed, altered, replayed, malformed or oversized one is refused with its own status.
/// </summary>
[Collection("postgres")]
public sealed class CollectorReportTests(PostgresServer postgres) : IAsyncLifetime, IDisposable
{
    private readonly TempFleet _repo = new(withFleet: false);
    private readonly string _keys = Directory.CreateTempSubdirectory("edgeops-keys-").FullName;
    private ReportKey _robot = null!;
    private ReportKey _stranger = null!;

    public Task InitializeAsync()
    {
        _robot = ReportKey.Create(_keys, "robot-1");
        _stranger = ReportKey.Create(_keys, "stranger");
        _repo.WaveFleet([("canary", "canary"), ("main", "main")]);
        _repo.Cluster("robot-1", "ring: canary\ncountry: ES", $"reportKey: \"{_robot.PublicLine}\"");
        _repo.Cluster("robot-2", "ring: main\ncountry: IT", $"reportKey: \"{_stranger.PublicLine}\"");
        _repo.Cluster("gateway-1", "ring: main\ncountry: ES");
        _repo.Commit("fleet");
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _robot?.Dispose();
        _stranger?.Dispose();
        _repo.Dispose();
        Directory.Delete(_keys, recursive: true);
    }

    private async Task<CollectorBed> StartAsync(string database, CollectorSettings? settings = null) =>
        await CollectorBed.StartAsync(_repo, database == "postgres" ? await postgres.NewDatabaseAsync() : null, settings: settings);

    /// <summary>A body sent with Transfer-Encoding: chunked, its length not announced.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response) =>
        JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), CollectorJson.Default.ApiProblem)!.Detail!;

    private static AgentReport Report(string cluster, long sequence, string outcome = "Applied") => new()
    {
        Cluster = cluster,
        Sequence = sequence,
        Time = DateTimeOffset.UtcNow,
        Applied = "a1b2c3",
        Outcome = outcome,
        Healthy = outcome == "Applied",
        Lat = 40.4,
        Lon = -3.7,
    };

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task SignedReport_IsStored_AndListedWithTheFleetsClusters(string database)
    {
        await using var bed = await StartAsync(database);
        var (body, signature) = _robot.Sign(Report("robot-1", 1));

        var receipt = await bed.Client.SendReportAsync(body, signature, CancellationToken.None);
        var rows = await bed.Client.GetClustersAsync(null, CancellationToken.None);

        Assert.Empty(receipt.Halted);
        Assert.Equal(["gateway-1", "robot-1", "robot-2"], rows.Select(r => r.Cluster).Order());
        var robot = rows.Single(r => r.Cluster == "robot-1");
        Assert.Equal(("Applied", "a1b2c3", false, false, "canary"), (robot.Report!.Outcome, robot.Report.Applied, robot.Stale, robot.Silent, robot.Wave));
        Assert.True(rows.Single(r => r.Cluster == "gateway-1").Silent);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Unsigned_UnknownCluster_UnlistedKey_Altered_AndOtherNamespace_AreRefused(string database)
    {
        await using var bed = await StartAsync(database);
        var (body, signature) = _robot.Sign(Report("robot-1", 5));
        var (unknownBody, unknownSignature) = _robot.Sign(Report("robot-99", 5));
        var (keylessBody, keylessSignature) = _robot.Sign(Report("gateway-1", 5));
        var (impostorBody, impostorSignature) = _stranger.Sign(Report("robot-1", 5));
        var (otherBody, otherSignature) = _robot.Sign(Report("robot-1", 5), "file");

        var unsigned = await bed.PostAsync(body, null);
        var unknown = await bed.PostAsync(unknownBody, unknownSignature);
        var keyless = await bed.PostAsync(keylessBody, keylessSignature);
        var impostor = await bed.PostAsync(impostorBody, impostorSignature);
        var altered = await bed.PostAsync(body.Replace("a1b2c3", "d4e5f6", StringComparison.Ordinal), signature);
        var otherNamespace = await bed.PostAsync(otherBody, otherSignature);
        var garbage = await bed.PostAsync(body, "-----BEGIN SSH SIGNATURE-----\nbm90IGEgc2lnbmF0dXJl\n-----END SSH SIGNATURE-----");

        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Contains("unsigned", await DetailAsync(unsigned), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        Assert.Contains("no cluster named 'robot-99'", await DetailAsync(unknown), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, keyless.StatusCode);
        Assert.Contains("lists no spec.reportKey", await DetailAsync(keyless), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, impostor.StatusCode);
        Assert.Contains(_stranger.Signer.PublicKey.Fingerprint, await DetailAsync(impostor), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, altered.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherNamespace.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
        Assert.True((await bed.Client.GetClustersAsync(null, CancellationToken.None)).All(r => r.Silent), "no refused report may be stored");
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Replayed_OrOlderReport_IsRefused_AndTheNewerOneKept(string database)
    {
        await using var bed = await StartAsync(database);
        var (first, firstSignature) = _robot.Sign(Report("robot-1", 100, "Failed"));
        var (second, secondSignature) = _robot.Sign(Report("robot-1", 200));

        await bed.Client.SendReportAsync(first, firstSignature, CancellationToken.None);
        await bed.Client.SendReportAsync(second, secondSignature, CancellationToken.None);
        var replay = await bed.PostAsync(second, secondSignature);
        var older = await bed.PostAsync(first, firstSignature);

        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, older.StatusCode);
        Assert.Contains("not newer", await DetailAsync(older), StringComparison.Ordinal);
        Assert.Equal(200, await bed.Store.SequenceOfAsync("robot-1", CancellationToken.None));
        Assert.Equal("Applied", (await bed.Client.GetClustersAsync("selector=ring%3Dcanary", CancellationToken.None)).Single().Report!.Outcome);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Oversized_Malformed_AndIncompleteBodies_AreRefused(string database)
    {
        await using var bed = await StartAsync(database, new CollectorSettings { MaxReportBytes = 2048 });
        var (big, bigSignature) = _robot.Sign(Report("robot-1", 1) with { Message = new string('x', 4000) });
        var (noSequence, noSequenceSignature) = _robot.Sign(Report("robot-1", 0));
        var notJson = "{\"cluster\": \"robot-1\", ";

        var oversized = await bed.PostAsync(big, bigSignature);
        var malformed = await bed.PostAsync(notJson, _robot.Signer.Sign(System.Text.Encoding.UTF8.GetBytes(notJson), Reconciler.Pipeline.Reconciler.ReportNamespace));
        var incomplete = await bed.PostAsync(noSequence, noSequenceSignature);
        var (offTheGlobe, offTheGlobeSignature) = _robot.Sign(Report("robot-1", 2) with { Lat = 91, Lon = 0.5 });
        var (halfAPosition, halfAPositionSignature) = _robot.Sign(Report("robot-1", 3) with { Lat = 41.5, Lon = null });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversized.StatusCode);
        Assert.StartsWith("a report is at most 2048 bytes; this one is ", await DetailAsync(oversized), StringComparison.Ordinal);
        // Sent in chunks, the body's size is known only by reading it, and only so far.
        using var http = new HttpClient { BaseAddress = bed.Url };
        using var streamed = await http.PostAsync("v1/reports", new ChunkedContent(new byte[100_000]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Equal("a report is at most 2048 bytes; this one is larger", await DetailAsync(streamed));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("not valid JSON", await DetailAsync(malformed), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, incomplete.StatusCode);
        foreach (var (body, signature) in new[] { (offTheGlobe, offTheGlobeSignature), (halfAPosition, halfAPositionSignature) })
        {
            var misplaced = await bed.PostAsync(body, signature);
            Assert.Equal(HttpStatusCode.BadRequest, misplaced.StatusCode);
            Assert.Equal("a report's position is lat and lon together, latitude -90 to 90 and longitude -180 to 180", await DetailAsync(misplaced));
        }
        var problem = JsonSerializer.Deserialize(await oversized.Content.ReadAsStringAsync(), CollectorJson.Default.ApiProblem)!;
        Assert.Equal(413, problem.Status);
    }

    [Fact]
    public async Task DatabaseOutage_Is503WithRetryAfter_ForAgentsAndOperators_AndPassesWhenTheDatabaseIsBack()
    {
        var url = await postgres.NewDatabaseAsync();
        var name = url[(url.LastIndexOf('/') + 1)..];
        await using var bed = await CollectorBed.StartAsync(_repo, url, settings: new CollectorSettings { CacheFor = TimeSpan.Zero }); // every request reads the database
        var (body, signature) = _robot.Sign(Report("robot-1", 1, "Applied"));
        await bed.Client.SendReportAsync(body, signature, CancellationToken.None);

        async Task AdministerAsync(string sql)
        {
            await using var connection = new Npgsql.NpgsqlConnection(postgres.ConnectionString("postgres"));
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        // The DBA takes the database away: no new connections, and the collector's pooled ones are cut.
        await AdministerAsync($"ALTER DATABASE {name} ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
        using var http = new HttpClient { BaseAddress = bed.Url };
        var list = await http.GetAsync("/v1/clusters");
        var (second, secondSignature) = _robot.Sign(Report("robot-1", 2, "Applied"));
        var report = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/reports") { Content = new StringContent(second), Headers = { { CollectorClient.SignatureHeader, CollectorClient.CompactSignature(secondSignature) } } });
        var agent = await Assert.ThrowsAsync<CollectorUnavailableException>(() => bed.Client.GetClustersAsync(null, CancellationToken.None));

        foreach (var answer in new[] { list, report })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromSeconds(CollectorHost.DatabaseRetryAfterSeconds), answer.Headers.RetryAfter?.Delta);
            Assert.Equal("the collector's database is unavailable; try again shortly", await DetailAsync(answer));
        }

        Assert.Contains("503", agent.Message, StringComparison.Ordinal);

        await AdministerAsync($"ALTER DATABASE {name} ALLOW_CONNECTIONS true");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpResponseMessage back;
        while ((back = await http.GetAsync("/v1/clusters")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100); // a pooled connection cut during the outage may fail once more
        }

        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Equal(1, await bed.Store.SequenceOfAsync("robot-1", CancellationToken.None));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Migrations_AreVersioned_AndRunOnceAcrossRestarts(string database)
    {
        var url = database == "postgres" ? await postgres.NewDatabaseAsync() : "sqlite:" + Path.Combine(_keys, "migrate.db");
        await using (var first = Storage.ReportStore.Open(url))
        {
            Assert.Equal(Storage.Migrations.All[^1].Version, await first.MigrateAsync(CancellationToken.None));
            await first.UpsertAsync([new Storage.StoredReport("robot-1", 7, DateTimeOffset.UtcNow, "{}")], CancellationToken.None);
        }

        await using var second = Storage.ReportStore.Open(url);
        var version = await second.MigrateAsync(CancellationToken.None);

        Assert.Equal(Storage.Migrations.All[^1].Version, version);
        Assert.Equal(7, await second.SequenceOfAsync("robot-1", CancellationToken.None)); // data survives; nothing re-created
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ClusterList_FiltersBySelector_Outcome_Wave_AndStaleness(string database)
    {
        await using var bed = await StartAsync(database);
        var (body, signature) = _stranger.Sign(Report("robot-2", 1, "Failed"));
        await bed.Client.SendReportAsync(body, signature, CancellationToken.None);

        async Task<string[]> Names(string query) => [.. (await bed.Client.GetClustersAsync(query, CancellationToken.None)).Select(r => r.Cluster).Order()];

        Assert.Equal(["gateway-1", "robot-1"], await Names("selector=country%3DES"));
        Assert.Equal(["robot-2"], await Names("selector=country!%3DES"));
        Assert.Equal(["robot-2"], await Names("outcome=failed"));
        Assert.Equal(["gateway-1", "robot-2"], await Names("wave=main"));
        Assert.Equal(["gateway-1", "robot-1"], await Names("stale=true"));
        Assert.Equal(["robot-2"], await Names("stale=false"));
        // The selector language is kubectl's, as `edgeops status -l` takes it for a folder of reports.
        Assert.Equal(["gateway-1", "robot-1"], await Names("selector=" + Uri.EscapeDataString("country in (ES,PT)")));
        Assert.Equal(["robot-2"], await Names("selector=" + Uri.EscapeDataString("country notin (ES),!legacy")));
    }

    [Theory]
    [InlineData("selector=!!!", "selector '!!!': label key '!!'")]
    [InlineData("selector=tier%3Da%20b", "label value 'a b' of tier")]
    [InlineData("selector=tier%20in%20()", "names no values")]
    [InlineData("selector=tier%20in%20(far", "must be in parentheses")]
    [InlineData("outcome=weird", "outcome 'weird' is not one of Applied, Unchanged, Offline, Refused, Invalid, RolledBack, Failed, Waiting, Silent")]
    [InlineData("stale=maybe", "stale 'maybe' is not true or false")]
    public async Task ClusterList_RefusesAFilterItCannotUnderstand_InsteadOfMatchingAllOrNothing(string query, string expected)
    {
        await using var bed = await StartAsync("sqlite");

        var response = await new HttpClient { BaseAddress = bed.Url }.GetAsync("v1/clusters?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await DetailAsync(response), StringComparison.Ordinal);
    }
}

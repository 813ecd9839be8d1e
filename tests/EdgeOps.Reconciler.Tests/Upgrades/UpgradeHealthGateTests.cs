using System.Collections.Immutable;
using System.Net;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Health;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Reconciler.Tests.Upgrades;

/// <summary>The trial's health checks, one answer each: http (status, silence), exec (exit code).</summary>
[Collection("kube")]
public sealed class UpgradeHealthGateTests(KubeServerFixture fixture) : IDisposable
{
    private readonly ArtifactServer _server = new();
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _server.Dispose();
        _http.Dispose();
    }

    private async Task<CheckOutcome> RunAsync(UpgradeCheck check)
    {
        using var api = new KubeApi(fixture.Server.Configuration);
        var gate = new UpgradeHealthGate(api, new HealthChecker(api), new InventoryStore(api, "edgeops-gate"), _http, null) { ProbeTimeout = TimeSpan.FromMilliseconds(500) };
        return (await gate.RunAsync([check], CancellationToken.None)).Single();
    }

    [Fact]
    public async Task Http_ExpectedStatus_Passes()
    {
        var url = _server.Add("healthz", "ok"u8.ToArray());

        var outcome = await RunAsync(new UpgradeCheck("web", "http", 60, Url: url.ToString()));

        Assert.True(outcome.Passed, outcome.Detail);
    }

    [Fact]
    public async Task Http_OtherStatus_FailsNamingIt()
    {
        _server.Add("healthz", "ok"u8.ToArray());
        _server.Misbehave(new ServeMode { Status = (int)HttpStatusCode.ServiceUnavailable });

        var outcome = await RunAsync(new UpgradeCheck("web", "http", 60, Url: new Uri(_server.Uri, "healthz").ToString()));

        Assert.False(outcome.Passed);
        Assert.Contains("answered 503, expected 200", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_ServerThatNeverAnswers_FailsAfterTheProbeTimeout_WithoutEndingThePass()
    {
        _server.Add("healthz", new byte[64 * 1024]);
        _server.Misbehave(new ServeMode { StallAfter = 0 });

        var outcome = await RunAsync(new UpgradeCheck("web", "http", 60, Url: new Uri(_server.Uri, "healthz").ToString()));

        Assert.False(outcome.Passed);
        Assert.Contains("no answer within 0.5 s", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_NothingListening_FailsWithTheConnectionError()
    {
        var outcome = await RunAsync(new UpgradeCheck("web", "http", 60, Url: "http://127.0.0.1:1/healthz"));

        Assert.False(outcome.Passed);
        Assert.Contains("refused", outcome.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public async Task Exec_ExitCodeDecides(string command, bool passed)
    {
        var outcome = await RunAsync(new UpgradeCheck("probe", "exec", 60, Command: ImmutableArray.Create(command)));

        Assert.Equal(passed, outcome.Passed);
    }
}

using System.Globalization;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Location;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Location;

/// <summary>
/// A moving robot's agent, pass by pass on the test API server, with its position in the facts file and time
/// from an injected clock: a geofenced personal-data workload stays through a zig-zag along the fence (the
/// data-residency policy sees the live position and the agent's decision), leaves once after the dwell, and a
/// lost fix keeps the last decision.
/// </summary>
[Collection("kube")]
public sealed class LiveLocationPassTests(KubeServerFixture fixture) : IDisposable
{
    private readonly TempFleet _repo = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly string _state = Directory.CreateTempSubdirectory("edgeops-live-").FullName;
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private string Ns => $"live-{_suffix}";

    private string FactsFile => Path.Combine(_state, "facts.json");

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    private void At(double metresNorthOfTheEdge) => File.WriteAllText(FactsFile, string.Create(CultureInfo.InvariantCulture,
        $"{{\"location\": {{\"lat\": {40.01 + (metresNorthOfTheEdge / 111_195.0):R}, \"lon\": -3.0}}}}"));

    private EdgeOps.Reconciler.Pipeline.Reconciler Agent(KubeApi api) => new(new ReconcilerOptions
    {
        Source = new GitSourceOptions { Url = _repo.Root, Branch = "main", CacheDirectory = Path.Combine(_state, "repo.git") },
        Cluster = "robot-1",
        StateDirectory = _state,
        Namespace = "edgeops-" + _suffix,
        Identity = "robot-1/test",
        HealthTimeout = TimeSpan.FromSeconds(20),
        FactsFile = FactsFile,
        Clock = _clock,
        Location = new LocationOptions { Source = LocationSourceKind.Facts, Precision = 4 },
    }, api);

    private async Task<bool> PlacedAsync(KubeApi api)
    {
        var resource = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        return await api.GetAsync(resource, Ns, "pickers", CancellationToken.None) is not null;
    }

    private string Commit()
    {
        _repo.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  policies:\n    builtIn: [data-residency]\n    parameters:\n      data-residency:\n        classes: {personal: [ES]}\n");
        _repo.Cluster("robot-1", "tier: micro\ncountry: ES", "location: {lat: 39.9, lon: -3.0}");
        _repo.Workload("personal-data", """
            placement:
              location:
                geofence:
                  type: Polygon
                  coordinates: [[[-3.01, 39.99], [-2.99, 39.99], [-2.99, 40.01], [-3.01, 40.01], [-3.01, 39.99]]]
                margin: 50
                dwell: 2m
            """, $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: pickers, namespace: {Ns}, labels: {{edgeops.io/data-class: personal}}}}\ndata: {{k: v}}\n");
        _repo.Workload("telemetry", manifest: $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: telemetry, namespace: {Ns}}}\ndata: {{k: v}}\n");
        return _repo.Commit("a geofenced personal-data workload");
    }

    [Fact]
    public async Task LiveLocation_ZigZagThenCrossing_MigratesOnceAfterTheDwell_AndALostFixKeepsTheDecision()
    {
        Commit();
        At(-300);
        using var api = new KubeApi(fixture.Server.Configuration);
        var agent = Agent(api);
        var first = await agent.RunOnceAsync(CancellationToken.None);
        Assert.True(first.Outcome == PassOutcome.Applied, first.Message);
        Assert.True(await PlacedAsync(api));
        Assert.Equal(40.0073, first.Report.Location!.Lat!.Value, 9);

        // Zig-zag 35 m either side of the edge, a pass every 10 s for 5 minutes: nothing moves.
        for (var i = 0; i < 30; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(10));
            At(i % 2 == 0 ? 35 : -35);
            var pass = await agent.RunOnceAsync(CancellationToken.None);
            Assert.True(pass.Outcome == PassOutcome.Unchanged, $"pass {i}: {pass.Outcome}: {pass.Message}");
            Assert.True(await PlacedAsync(api), $"pass {i}: the workload left at the fence edge");
        }

        // A lost fix far outside: the last decision stands, and the status says why.
        _clock.Advance(TimeSpan.FromSeconds(10));
        File.WriteAllText(FactsFile, "{}");
        var lost = await agent.RunOnceAsync(CancellationToken.None);
        Assert.True(await PlacedAsync(api));
        Assert.Contains("no fix since", lost.Report.Location!.Note, StringComparison.Ordinal);

        // Out by 200 m: it stays through the dwell, then leaves, once.
        At(200);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await agent.RunOnceAsync(CancellationToken.None);
        Assert.True(await PlacedAsync(api));
        _clock.Advance(TimeSpan.FromSeconds(119));
        await agent.RunOnceAsync(CancellationToken.None);
        Assert.True(await PlacedAsync(api), "left before the dwell");
        _clock.Advance(TimeSpan.FromSeconds(1));
        var left = await agent.RunOnceAsync(CancellationToken.None);

        Assert.False(await PlacedAsync(api), left.Message);
        Assert.False(left.Report.Location!.Placed["Workload/personal-data"]);
        for (var i = 0; i < 5; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(10));
            At(i % 2 == 0 ? 40 : -40);
            await agent.RunOnceAsync(CancellationToken.None);
            Assert.False(await PlacedAsync(api), "came back within the margin");
        }

        // The decision survives a restart of the agent.
        var restarted = Agent(api);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await restarted.RunOnceAsync(CancellationToken.None);
        Assert.False(await PlacedAsync(api));
    }

    [Fact]
    public async Task LiveLocation_PolicySeesTheLivePosition_NotTheStaticOne()
    {
        Commit();
        _repo.Write("policies/where.js", """
            export const policy = { name: "where", description: "reports the live position", severity: "warning", controls: ["at"], match: { kinds: ["ConfigMap"] } };
            export function validateCluster(desired, ctx) {
              const at = ctx.cluster.facts.location;
              return [{ control: "at", message: `live at ${at.lat.toFixed(4)},${at.lon.toFixed(4)}; static at ${ctx.cluster.location.lat}` }];
            }
            """);
        _repo.Write("fleet.yaml", File.ReadAllText(Path.Combine(_repo.Root, "fleet.yaml")) + "    paths: [policies]\n");
        _repo.Commit("a policy that reads the live position");
        At(-300);
        using var api = new KubeApi(fixture.Server.Configuration);

        var pass = await Agent(api).RunOnceAsync(CancellationToken.None);

        Assert.True(pass.Outcome == PassOutcome.Applied, pass.Message);
        Assert.Contains(pass.Report.Violations, v => v.Contains("live at 40.0073,-3.0000", StringComparison.Ordinal));
    }
}

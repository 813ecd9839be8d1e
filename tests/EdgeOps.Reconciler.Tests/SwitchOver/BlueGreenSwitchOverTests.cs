using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;
using Xunit.Abstractions;

namespace EdgeOps.Reconciler.Tests.SwitchOver;

/// <summary>
/// BlueGreen with pre-initialisation on the test API server, pod status written by the tests in place of a
/// kubelet: green starts beside blue and receives no traffic until it is pre-initialised, the Services switch in
/// one step, blue stays warm for its retention, an exclusive camera is handed over only after blue released it,
/// a green that never gets ready rolls back with the Services still on blue, and a kill at each step leaves
/// the Services on one ready slot.
/// </summary>
[Collection("kube")]
public sealed class BlueGreenSwitchOverTests(KubeServerFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly TempFleet _repo = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly string _state = Directory.CreateTempSubdirectory("edgeops-bg-").FullName;

    private string Ns => $"bg-{_suffix}";

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    private string Commit(string image, bool camera = false, string config = "a", string retention = "1s", string extraStrategy = "", string device = "camera")
    {
        _repo.Cluster("robot-1", "tier: micro");
        _repo.Workload("vision", VisionWorkload.Strategy(retention, extraStrategy), VisionWorkload.Manifests(Ns, image, camera ? device : null, config));
        return _repo.Commit(image);
    }

    private EdgeOps.Reconciler.Pipeline.Reconciler Agent(KubeApi api, TimeSpan? healthTimeout = null) => new(new ReconcilerOptions
    {
        Source = new GitSourceOptions { Url = _repo.Root, Branch = "main", CacheDirectory = Path.Combine(_state, "repo.git") },
        Cluster = "robot-1",
        StateDirectory = _state,
        Namespace = "edgeops-" + _suffix,
        Identity = "robot-1/test",
        HealthTimeout = healthTimeout ?? TimeSpan.FromSeconds(30),
    }, api);

    private async Task<JsonObject?> GetAsync(KubeApi api, string apiVersion, string kind, string name)
    {
        var resource = (await api.ResolveAsync(apiVersion, kind, CancellationToken.None))!;
        return await api.GetAsync(resource, Ns, name, CancellationToken.None);
    }

    private async Task<string?> ServingAsync(KubeApi api) => (await GetAsync(api, "v1", "Service", "vision"))?["spec"]?["selector"]?["edgeops.io/slot"]?.GetValue<string>();

    /// <summary>One pass with the test playing the kubelet for the given slots.</summary>
    private async Task<PassResult> PassAsync(EdgeOps.Reconciler.Pipeline.Reconciler agent, KubeApi api, params string[] ready)
    {
        using var stop = new CancellationTokenSource();
        var kubelets = ready.Select(slot => Kubelet.KeepReadyAsync(api, Ns, $"edgeops.io/slot={slot}", stop.Token)).ToList();
        var result = await agent.RunOnceAsync(CancellationToken.None);
        await stop.CancelAsync();
        await Task.WhenAll(kubelets);
        output.WriteLine($"{result.Outcome}: {result.Message}");
        return result;
    }

    [Fact]
    public async Task BlueGreen_NewImage_GreenPreInitialisesUnservedThenServicesSwitchAndBlueStaysWarm()
    {
        Commit("registry.example/vision:1");
        using var api = new KubeApi(fixture.Server.Configuration);
        var agent = Agent(api);
        Assert.Equal(PassOutcome.Applied, (await PassAsync(agent, api, "blue")).Outcome);
        Assert.Equal("blue", await ServingAsync(api));
        Assert.Null(await GetAsync(api, "apps/v1", "Deployment", "vision"));

        var v2 = Commit("registry.example/vision:2", retention: "3s");
        using var stop = new CancellationTokenSource();
        var servedWhileGreenUnready = new List<string?>();
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var green = await GetAsync(api, "apps/v1", "Deployment", "vision-green");
                if (green is not null && (green["status"]?["readyReplicas"]?.GetValue<int>() ?? 0) == 0)
                {
                    servedWhileGreenUnready.Add(await ServingAsync(api));
                }

                await Task.Delay(50);
            }
        });
        var switched = await PassAsync(agent, api, "blue", "green");
        await stop.CancelAsync();
        await watcher;

        Assert.Equal(PassOutcome.Applied, switched.Outcome);
        Assert.Equal(v2, switched.AppliedRevision);
        Assert.NotEmpty(servedWhileGreenUnready);
        Assert.All(servedWhileGreenUnready, slot => Assert.Equal("blue", slot));
        Assert.Equal("green", await ServingAsync(api));
        Assert.Equal("registry.example/vision:2", (await GetAsync(api, "apps/v1", "Deployment", "vision-green"))!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString());
        Assert.Equal(1, (await GetAsync(api, "apps/v1", "Deployment", "vision-blue"))!["spec"]!["replicas"]!.GetValue<int>());
        var status = Assert.Single(switched.Report.SwitchOvers);
        Assert.Equal(("green", "green", null), (status.Active, status.Serving, status.SwitchingTo));
        Assert.InRange(status.LastSwitchSeconds!.Value, 0, 10);

        // Past the retention, blue is scaled to zero; the next revision swaps the roles.
        await Task.Delay(TimeSpan.FromSeconds(3.2));
        await PassAsync(agent, api, "green");
        Assert.Equal(0, (await GetAsync(api, "apps/v1", "Deployment", "vision-blue"))!["spec"]!["replicas"]!.GetValue<int>());
        Commit("registry.example/vision:3");
        Assert.Equal(PassOutcome.Applied, (await PassAsync(agent, api, "green", "blue")).Outcome);
        Assert.Equal("blue", await ServingAsync(api));
        Assert.Equal("registry.example/vision:3", (await GetAsync(api, "apps/v1", "Deployment", "vision-blue"))!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString());
    }

    [Fact]
    public async Task BlueGreen_GreenNeverReady_RollsBackWithTheServicesOnBlue()
    {
        var v1 = Commit("registry.example/vision:1");
        using var api = new KubeApi(fixture.Server.Configuration);
        await PassAsync(Agent(api), api, "blue");
        Commit("registry.example/vision:2-broken");

        var result = await PassAsync(Agent(api, TimeSpan.FromSeconds(3)), api, "blue");

        Assert.Equal(PassOutcome.RolledBack, result.Outcome);
        Assert.Equal(v1, result.AppliedRevision);
        Assert.Equal("blue", await ServingAsync(api));
        Assert.Null(await GetAsync(api, "apps/v1", "Deployment", "vision-green"));
        Assert.Equal("registry.example/vision:1", (await GetAsync(api, "apps/v1", "Deployment", "vision-blue"))!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString());
    }

    [Fact]
    public async Task BlueGreen_GreenFailingRightAfterTheSwitch_FlipsBackToTheWarmBlue()
    {
        var v1 = Commit("registry.example/vision:1");
        using var api = new KubeApi(fixture.Server.Configuration);
        await PassAsync(Agent(api), api, "blue");
        Commit("registry.example/vision:2");
        var pods = (await api.ResolveAsync("v1", "Pod", CancellationToken.None))!;

        using var stop = new CancellationTokenSource();
        var crash = Task.Run(async () =>
        {
            // Green crashes as soon as traffic reaches it.
            while (!stop.IsCancellationRequested && await ServingAsync(api) != "green")
            {
                await Task.Delay(20);
            }

            foreach (var pod in await api.ListAsync(pods, Ns, "edgeops.io/slot=green", CancellationToken.None))
            {
                // Running, but its container keeps crashing: not ready.
                var at = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                var status = new JsonObject
                {
                    ["phase"] = "Running",
                    ["conditions"] = new JsonArray(
                        new JsonObject { ["type"] = "ContainersReady", ["status"] = "False", ["lastTransitionTime"] = at },
                        new JsonObject { ["type"] = "Ready", ["status"] = "False", ["lastTransitionTime"] = at }),
                };
                await api.PatchStatusAsync(pods, Ns, pod["metadata"]!["name"]!.ToString(), new JsonObject { ["status"] = status }.ToJsonString(), CancellationToken.None);
            }
        });
        var result = await PassAsync(Agent(api, TimeSpan.FromSeconds(8)), api, "blue", "green");
        await stop.CancelAsync();
        await crash;

        Assert.Equal(PassOutcome.RolledBack, result.Outcome);
        Assert.Contains("turned unhealthy after the switch", result.Message, StringComparison.Ordinal);
        Assert.Equal(v1, result.AppliedRevision);
        Assert.Equal("blue", await ServingAsync(api));
        Assert.Equal(1, (await GetAsync(api, "apps/v1", "Deployment", "vision-blue"))!["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task BlueGreen_ExclusiveCamera_GreenGetsItOnlyAfterBlueReleasedIt()
    {
        Commit("registry.example/vision:1", camera: true);
        using var api = new KubeApi(fixture.Server.Configuration);
        var agent = Agent(api);
        await PassAsync(agent, api, "blue");
        Commit("registry.example/vision:2", camera: true);

        using var stop = new CancellationTokenSource();
        var events = new List<string>();
        var watcher = Task.Run(async () =>
        {
            var pods = (await api.ResolveAsync("v1", "Pod", CancellationToken.None))!;
            while (!stop.IsCancellationRequested)
            {
                var green = await GetAsync(api, "apps/v1", "Deployment", "vision-green");
                var blue = await GetAsync(api, "apps/v1", "Deployment", "vision-blue");
                var greenCamera = green?["spec"]?["template"]?["spec"]?["containers"]?[0]?["resources"]?["limits"]?["akri.sh/camera"] is not null;
                var bluePods = (await api.ListAsync(pods, Ns, "edgeops.io/slot=blue", CancellationToken.None)).Count;
                var released = blue?["spec"]?["template"]?["metadata"]?["annotations"]?["edgeops.io/release-devices"] is not null;
                var line = $"green={(green is null ? "none" : greenCamera ? "camera" : "no-camera")} blue-pods={bluePods} released={released}";
                if (events.Count == 0 || events[^1] != line)
                {
                    events.Add(line);
                }

                await Task.Delay(50);
            }
        });
        var result = await PassAsync(agent, api, "blue", "green");
        await stop.CancelAsync();
        await watcher;
        output.WriteLine(string.Join('\n', events));

        Assert.Equal(PassOutcome.Applied, result.Outcome);
        Assert.Contains(events, e => e.StartsWith("green=no-camera blue-pods=1", StringComparison.Ordinal));
        var firstWithCamera = events.FindIndex(e => e.StartsWith("green=camera", StringComparison.Ordinal));
        Assert.True(firstWithCamera > 0, "green never got the camera");
        Assert.Contains("released=True", events[firstWithCamera], StringComparison.Ordinal);
        Assert.Contains("blue-pods=0", events[firstWithCamera], StringComparison.Ordinal);
        Assert.Equal("green", await ServingAsync(api));
        Assert.True(Assert.Single(result.Report.SwitchOvers).LastHandoffGapSeconds > 0);
    }

    [Fact]
    public async Task BlueGreen_SharedDevice_BothSlotsHoldItAndNoHandoffIsNeeded()
    {
        // A DeviceConfig with capacity 2: Akri lets two pods use each camera at once.
        _repo.Write("devices/ip-camera.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: DeviceConfig
            metadata:
              name: ip-camera
            spec:
              deviceClass: ip-camera
              placement:
                clusterSelector:
                  matchLabels: {tier: far}
              discovery:
                handler: onvif
              capacity: 2
            """);
        Commit("registry.example/vision:1", camera: true, device: "ip-camera");
        using var api = new KubeApi(fixture.Server.Configuration);
        var agent = Agent(api);
        await PassAsync(agent, api, "blue");
        Commit("registry.example/vision:2", camera: true, device: "ip-camera");

        var result = await PassAsync(agent, api, "blue", "green");

        Assert.Equal(PassOutcome.Applied, result.Outcome);
        Assert.Equal("green", await ServingAsync(api));
        var green = await GetAsync(api, "apps/v1", "Deployment", "vision-green");
        Assert.NotNull(green!["spec"]!["template"]!["spec"]!["containers"]![0]!["resources"]!["limits"]!["akri.sh/ip-camera"]);
        Assert.Equal(1, (await GetAsync(api, "apps/v1", "Deployment", "vision-blue"))!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Null(Assert.Single(result.Report.SwitchOvers).LastHandoffGapSeconds);
    }

    [Fact]
    public async Task BlueGreen_ConfigOnlyChange_IsAppliedInPlaceWithoutASwitch()
    {
        Commit("registry.example/vision:1");
        using var api = new KubeApi(fixture.Server.Configuration);
        var agent = Agent(api);
        await PassAsync(agent, api, "blue");
        Commit("registry.example/vision:1", config: "b");

        var result = await PassAsync(agent, api, "blue");

        Assert.Equal(PassOutcome.Applied, result.Outcome);
        Assert.Equal("b", (await GetAsync(api, "v1", "ConfigMap", "vision-config"))!["data"]!["threshold"]!.ToString());
        Assert.Null(await GetAsync(api, "apps/v1", "Deployment", "vision-green"));
        Assert.Equal("blue", await ServingAsync(api));
    }

    [Fact]
    public async Task BlueGreen_PreInitialisedByAnAnnotation_WaitsForTheAppToSetIt()
    {
        Commit("registry.example/vision:1", extraStrategy: "\n  preInitializedWhen:\n    annotation: vision.pomona.io/model-loaded");
        using var api = new KubeApi(fixture.Server.Configuration);
        var agent = Agent(api);
        await PassAsync(agent, api, "blue");
        Commit("registry.example/vision:2", extraStrategy: "\n  preInitializedWhen:\n    annotation: vision.pomona.io/model-loaded");
        var pods = (await api.ResolveAsync("v1", "Pod", CancellationToken.None))!;

        using var stop = new CancellationTokenSource();
        var servedBeforeAnnotation = new List<string?>();
        var app = Task.Run(async () =>
        {
            // The model takes a while to load; then the app annotates its pod.
            await Task.Delay(TimeSpan.FromSeconds(2));
            servedBeforeAnnotation.Add(await ServingAsync(api));
            foreach (var pod in await api.ListAsync(pods, Ns, "edgeops.io/slot=green", CancellationToken.None))
            {
                await api.RawAsync(HttpMethod.Patch, $"/api/v1/namespaces/{Ns}/pods/{pod["metadata"]!["name"]}", "{\"metadata\":{\"annotations\":{\"vision.pomona.io/model-loaded\":\"true\"}}}", "application/merge-patch+json", CancellationToken.None);
            }
        });
        var result = await PassAsync(agent, api, "blue", "green");
        await app;

        Assert.Equal(PassOutcome.Applied, result.Outcome);
        Assert.Equal("blue", Assert.Single(servedBeforeAnnotation));
        Assert.Equal("green", await ServingAsync(api));
    }
}

using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;
using Xunit.Abstractions;

namespace EdgeOps.Reconciler.Tests.SwitchOver;

/// <summary>
/// The real edgeops process killed with SIGKILL at each step of a BlueGreen switch-over. Right after the kill
/// and after every restart, every Service of the workload selects exactly one slot, that slot exists, and —
/// except while exclusive devices are being handed over, the gap the handoff measures — it is ready. After
/// restarts the switch completes on green.
/// </summary>
[Collection("kube")]
public sealed class SwitchOverCrashTests(KubeServerFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly TempFleet _repo = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly string _state = Path.Combine(Path.GetTempPath(), "edgeops-swcrash-" + Guid.NewGuid().ToString("N")[..10]);

    private string Ns => $"swc-{_suffix}";

    public void Dispose()
    {
        _repo.Dispose();
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    private void Commit(string image, bool camera)
    {
        _repo.Cluster("edge-1", "tier: micro");
        _repo.Workload("vision", VisionWorkload.Strategy("1m"), VisionWorkload.Manifests(Ns, image, camera ? "camera" : null, metricsService: true));
        _repo.Commit(image);
    }

    public static TheoryData<string, bool> Points() => new()
    {
        { "switch:preinitialized", false },
        { "switch:switching", false },
        { "switch:switched", false },
        { "switch:committed", false },
        { "journal:applied", false },
        { "switch:handoff", true },
        { "switch:released", true },
        { "switch:devices-granted", true },
        { "switch:switching", true },
    };

    /// <summary>The NativeAOT agent, killed in the middle of a switch, and of a device handoff.</summary>
    public static TheoryData<string, bool> NativePoints() => new()
    {
        { "switch:switching", false },
        { "switch:handoff", true },
    };

    [Theory]
    [MemberData(nameof(Points))]
    public Task SwitchOverKilledAt_ServicesAlwaysSelectOneSlot_AndTheSwitchCompletes(string point, bool camera) =>
        KilledAtAsync(Agent.Jit, point, camera);

    [Theory]
    [MemberData(nameof(NativePoints))]
    public Task NativeAgent_SwitchOverKilledAt_ServicesAlwaysSelectOneSlot_AndTheSwitchCompletes(string point, bool camera) =>
        KilledAtAsync(Agent.Aot, point, camera);

    private async Task KilledAtAsync(Agent agent, string point, bool camera)
    {
        using var api = new KubeApi(fixture.Server.Configuration);
        Commit("registry.example/vision:1", camera);
        Assert.Equal(0, (await RunAsync(api, null, agent)).ExitCode);
        Commit("registry.example/vision:2", camera);

        var killed = await RunAsync(api, point, agent);
        Assert.True(killed.Killed, $"never reached {point}: {killed.Output}{killed.Error}");
        await AssertOneReadySlotAsync(api, camera);

        for (var i = 0; i < 4 && await ServingAsync(api, "vision") != "green"; i++)
        {
            var again = await RunAsync(api, null, agent);
            output.WriteLine($"restart {i}: {again.Output.Trim()}");
            await AssertOneReadySlotAsync(api, camera);
        }

        Assert.Equal("green", await ServingAsync(api, "vision"));
        Assert.Equal("green", await ServingAsync(api, "vision-metrics"));
        var green = await GetAsync(api, "apps/v1", "Deployment", "vision-green");
        Assert.Equal("registry.example/vision:2", green!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString());
    }

    private async Task<ReconcilerProcess.Run> RunAsync(KubeApi api, string? crashAt, Agent agent)
    {
        using var stop = new CancellationTokenSource();
        var kubelet = Kubelet.KeepReadyAsync(api, Ns, "edgeops.io/slot", stop.Token);
        var run = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "main", _state, "edgeops-" + _suffix, crashAt, 0, "--health-timeout", "20s");
        await stop.CancelAsync();
        await kubelet;
        output.WriteLine($"{crashAt ?? "pass"}: exit {run.ExitCode}: {run.Output.Trim()}");
        return run;
    }

    private async Task AssertOneReadySlotAsync(KubeApi api, bool handoffAllowed)
    {
        var record = File.Exists(Path.Combine(_state, "switchover.json")) ? JsonNode.Parse(File.ReadAllText(Path.Combine(_state, "switchover.json")))!["vision"] : null;
        // From the release of the devices until the Services move, the active slot is down: the measured handoff gap.
        var handingOver = record?["pending"]?["handoffStarted"] is not null;
        foreach (var service in new[] { "vision", "vision-metrics" })
        {
            var slot = await ServingAsync(api, service);
            Assert.True(slot is "blue" or "green", $"{service} selects {slot ?? "no slot"}");
            var deployment = await GetAsync(api, "apps/v1", "Deployment", "vision-" + slot);
            Assert.True(deployment is not null, $"{service} selects {slot}, which does not exist");
            if (!(handoffAllowed && handingOver))
            {
                Assert.True((deployment["spec"]!["replicas"]?.GetValue<int>() ?? 1) > 0, $"{service} selects {slot}, scaled to zero");
            }
        }

        Assert.Equal(await ServingAsync(api, "vision"), await ServingAsync(api, "vision-metrics"));
    }

    private async Task<JsonObject?> GetAsync(KubeApi api, string apiVersion, string kind, string name)
    {
        var resource = (await api.ResolveAsync(apiVersion, kind, CancellationToken.None))!;
        return await api.GetAsync(resource, Ns, name, CancellationToken.None);
    }

    private async Task<string?> ServingAsync(KubeApi api, string service) =>
        (await GetAsync(api, "v1", "Service", service))?["spec"]?["selector"]?["edgeops.io/slot"]?.GetValue<string>();
}

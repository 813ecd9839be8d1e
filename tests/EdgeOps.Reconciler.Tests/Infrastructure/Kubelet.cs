using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>
/// There is no kubelet or scheduler on the test server. The controller manager does create the
/// ReplicaSets and Pods of a Deployment; tests then write the pod status a kubelet would (Running and
/// Ready), and the controllers roll that up into the Deployment's status as on a real cluster.
/// </summary>
internal static class Kubelet
{
    public static async Task MarkDeploymentAvailableAsync(KubeApi api, ApiResource deployments, string ns, string name)
    {
        var pods = (await api.ResolveAsync("v1", "Pod", CancellationToken.None))!;
        var deployment = await api.GetAsync(deployments, ns, name, CancellationToken.None);
        var labels = deployment!["spec"]!["selector"]!["matchLabels"]!.AsObject();
        var selector = string.Join(",", labels.Select(l => $"{l.Key}={l.Value}"));
        var replicas = (long?)deployment["spec"]!["replicas"] ?? 1;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<JsonObject> found = [];
        while (DateTime.UtcNow < deadline)
        {
            found = await api.ListAsync(pods, ns, selector, CancellationToken.None);
            if (found.Count >= replicas)
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.True(found.Count >= replicas, $"the controller manager made {found.Count} pods for {ns}/{name}, expected {replicas}");
        var now = DateTime.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var pod in found)
        {
            var condition = (string type) => new JsonObject { ["type"] = type, ["status"] = "True", ["lastTransitionTime"] = now };
            var status = new JsonObject
            {
                ["phase"] = "Running",
                ["conditions"] = new JsonArray(condition("PodScheduled"), condition("Initialized"), condition("ContainersReady"), condition("Ready")),
            };
            var response = await api.PatchStatusAsync(pods, ns, pod["metadata"]!["name"]!.ToString(), new JsonObject { ["status"] = status }.ToJsonString(), CancellationToken.None);
            Assert.True(response.IsSuccess, response.Message);
        }
    }

    /// <summary>
    /// Plays the kubelet until <paramref name="stop"/>: every pod matching <paramref name="selector"/> that is not
    /// Running yet is marked Running and Ready (one a test marked Running but not ready stays as it is).
    /// </summary>
    public static async Task KeepReadyAsync(KubeApi api, string ns, string selector, CancellationToken stop)
    {
        var pods = (await api.ResolveAsync("v1", "Pod", CancellationToken.None))!;
        while (!stop.IsCancellationRequested)
        {
            foreach (var pod in await api.ListAsync(pods, ns, selector, CancellationToken.None))
            {
                if (pod["status"]?["phase"]?.GetValue<string>() == "Running")
                {
                    continue;
                }

                var now = DateTime.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                JsonObject Condition(string type) => new() { ["type"] = type, ["status"] = "True", ["lastTransitionTime"] = now };
                var status = new JsonObject { ["phase"] = "Running", ["conditions"] = new JsonArray(Condition("PodScheduled"), Condition("Initialized"), Condition("ContainersReady"), Condition("Ready")) };
                await api.PatchStatusAsync(pods, ns, pod["metadata"]!["name"]!.ToString(), new JsonObject { ["status"] = status }.ToJsonString(), CancellationToken.None);
            }

            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

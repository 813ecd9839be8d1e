using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Health;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>The result of one check of the gate: passed, or why not.</summary>
public sealed record CheckOutcome(string Name, bool Passed, string Detail);

/// <summary>
/// Runs an upgrade's health checks once each, on the device after the trial boot: <c>http</c> (a GET must answer
/// the expected status), <c>exec</c> (a command must exit 0), <c>kubernetes</c> (this node Ready — the node named
/// by <c>NODE_NAME</c>, or every node when unset — and/or every object in the agent's inventory healthy).
/// The trial decides from the answers and the clock; this class only asks.
/// </summary>
public sealed class UpgradeHealthGate(KubeApi api, HealthChecker health, InventoryStore inventory, HttpClient http, string? nodeName)
{
    /// <summary>How long one HTTP probe may take.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public async Task<IReadOnlyList<CheckOutcome>> RunAsync(IReadOnlyList<UpgradeCheck> checks, CancellationToken cancellationToken)
    {
        var outcomes = new List<CheckOutcome>(checks.Count);
        foreach (var check in checks)
        {
            outcomes.Add(await RunAsync(check, cancellationToken).ConfigureAwait(false));
        }

        return outcomes;
    }

    private async Task<CheckOutcome> RunAsync(UpgradeCheck check, CancellationToken cancellationToken)
    {
        try
        {
            return check.Type switch
            {
                "http" => await HttpAsync(check, cancellationToken).ConfigureAwait(false),
                "exec" => await ExecAsync(check, cancellationToken).ConfigureAwait(false),
                "kubernetes" => await KubernetesAsync(check, cancellationToken).ConfigureAwait(false),
                _ => new CheckOutcome(check.Name, false, $"unknown check type '{check.Type}'"),
            };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or KubeUnavailableException or IOException or OperationCanceledException)
        {
            // Not the agent stopping: the probe itself failed or timed out.
            return new CheckOutcome(check.Name, false, ex is OperationCanceledException ? $"no answer within {ProbeTimeout.TotalSeconds:0.#} s" : ex.Message);
        }
    }

    private async Task<CheckOutcome> HttpAsync(UpgradeCheck check, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ProbeTimeout);
        using var response = await http.GetAsync(check.Url, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        return new CheckOutcome(check.Name, status == check.ExpectStatus, $"GET {check.Url} answered {status}, expected {check.ExpectStatus}");
    }

    private async Task<CheckOutcome> ExecAsync(UpgradeCheck check, CancellationToken cancellationToken)
    {
        if (check.Command.IsDefaultOrEmpty)
        {
            return new CheckOutcome(check.Name, false, "no command");
        }

        var result = await HostCommand.RunAsync(check.Command, check.Timeout < ProbeTimeout * 3 ? check.Timeout : ProbeTimeout * 3, cancellationToken).ConfigureAwait(false);
        return new CheckOutcome(check.Name, result.Succeeded, result.Succeeded ? "exit code 0" : $"{check.Command[0]}: {result.Reason}");
    }

    private async Task<CheckOutcome> KubernetesAsync(UpgradeCheck check, CancellationToken cancellationToken)
    {
        if (check.NodeReady)
        {
            var path = nodeName is null ? "/api/v1/nodes" : $"/api/v1/nodes/{Uri.EscapeDataString(nodeName)}";
            var response = await api.RawAsync(HttpMethod.Get, path, null, null, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccess)
            {
                return new CheckOutcome(check.Name, false, $"GET {path}: {response.Reason}");
            }

            var nodes = nodeName is null ? response.Body?["items"]?.AsArray().OfType<JsonObject>().ToList() ?? [] : [response.Body!.AsObject()];
            if (nodes.Count == 0)
            {
                return new CheckOutcome(check.Name, false, "the cluster has no nodes yet");
            }

            foreach (var node in nodes)
            {
                var ready = node["status"]?["conditions"]?.AsArray().OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == "Ready");
                if (ready?["status"]?.GetValue<string>() != "True")
                {
                    return new CheckOutcome(check.Name, false, $"node {node["metadata"]?["name"]} is not Ready{(ready?["message"] is { } m ? $": {m}" : string.Empty)}");
                }
            }
        }

        if (check.WorkloadsHealthy)
        {
            var applied = await inventory.LoadAsync(cancellationToken).ConfigureAwait(false);
            var report = await health.CheckAsync([.. applied.Entries.Select(e => e.Id)], cancellationToken).ConfigureAwait(false);
            if (!report.Healthy)
            {
                return new CheckOutcome(check.Name, false, $"{report.Culprit!.Id} is {report.Culprit.Status.ToString().ToLowerInvariant()}: {report.Culprit.Reason}");
            }
        }

        return new CheckOutcome(check.Name, true, "healthy");
    }
}

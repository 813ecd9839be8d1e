using System.Diagnostics;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>Runs the real edgeops executable's <c>reconcile --once</c> as a child process.</summary>
internal static class ReconcilerProcess
{
    public sealed record Run(int ExitCode, string Output, string Error, bool Killed);

    public static Task<Run> ReconcileAsync(KubeServer server, string repo, string branch, string stateDir, string ns, string? crashAt = null, int skip = 0, params string[] extra) =>
        RunAsync(server, repo, branch, stateDir, ns, crashAt is null ? new Dictionary<string, string>() : new Dictionary<string, string>
        {
            ["EDGEOPS_CRASH_AT"] = crashAt,
            ["EDGEOPS_CRASH_TESTING"] = "1",
            ["EDGEOPS_CRASH_SKIP"] = skip.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, extra);

    /// <summary>One pass with the given environment added.</summary>
    public static async Task<Run> RunAsync(KubeServer server, string repo, string branch, string stateDir, string ns, IReadOnlyDictionary<string, string> environment, params string[] extra)
    {
        var kubeconfig = Path.Combine(stateDir + "-kubeconfig");
        var text = string.Join('\n',
            "apiVersion: v1",
            "kind: Config",
            $"clusters: [{{name: test, cluster: {{server: \"{server.ServerUri}\", insecure-skip-tls-verify: true}}}}]",
            $"users: [{{name: admin, user: {{token: \"{server.Token}\"}}}}]",
            "contexts: [{name: test, context: {cluster: test, user: admin}}]",
            "current-context: test",
            string.Empty);
        await File.WriteAllTextAsync(kubeconfig, text);
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "edgeops"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "reconcile", "--once", "--repo", repo, "--branch", branch, "--cluster", "edge-1", "--kubeconfig", kubeconfig, "--state-dir", stateDir, "--namespace", ns }.Concat(extra))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["EDGEOPS_DEBUG"] = "1";
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }

        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        // SIGKILL shows as 137 (128 + 9).
        return new Run(process.ExitCode, await output, await error, process.ExitCode == 137);
    }
}

using System.Diagnostics;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>Which build of edgeops runs: the framework-dependent one beside the tests, or the NativeAOT one the agent ships as.</summary>
public enum Agent
{
    Jit,
    Aot,

    /// <summary>The NativeAOT linux-arm64 build, run under qemu-user (qemu-aarch64-static).</summary>
    AotArm64,
}

/// <summary>Runs the real edgeops executable's <c>reconcile --once</c> as a child process.</summary>
internal static class ReconcilerProcess
{
    public sealed record Run(int ExitCode, string Output, string Error, bool Killed);

    /// <summary>Both builds, for theories that must hold for each.</summary>
    public static TheoryData<Agent> Agents() => new() { Agent.Jit, Agent.Aot };

    /// <summary>How to start <paramref name="agent"/>'s edgeops; arguments go after those it already holds.</summary>
    public static ProcessStartInfo StartInfo(Agent agent)
    {
        switch (agent)
        {
            case Agent.Jit:
                return new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "edgeops"));
            case Agent.Aot:
                return new ProcessStartInfo(Published("EDGEOPS_AOT_AGENT", "linux-x64"));
            default:
                var binary = Published("EDGEOPS_AOT_AGENT_ARM64", "linux-arm64");
                var qemu = new[] { "/usr/bin/qemu-aarch64-static", "/usr/bin/qemu-aarch64" }.FirstOrDefault(File.Exists);
                Assert.True(qemu is not null, "qemu-user is not installed: scripts/build-deps.sh installs qemu-user-static (scripts/test.sh runs it)");
                var psi = new ProcessStartInfo(qemu!);
                psi.ArgumentList.Add(binary);
                return psi;
        }
    }

    /// <summary>
    /// A NativeAOT binary as scripts/publish.sh leaves it in artifacts/bin/RID (scripts/test.sh publishes
    /// both before the tests run), or as <paramref name="variable"/> names it. A missing binary fails the
    /// test: the build the agent ships as must not go untested.
    /// </summary>
    private static string Published(string variable, string rid)
    {
        var path = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } named
            ? named
            : Path.Combine(RepoPaths.Root, "artifacts", "bin", rid, "edgeops");
        Assert.True(File.Exists(path), $"the NativeAOT agent for {rid} is not at {path}: run scripts/publish.sh {rid} (scripts/test.sh does) or set {variable}");
        return path;
    }

    public static Task<Run> ReconcileAsync(KubeServer server, string repo, string branch, string stateDir, string ns, string? crashAt = null, int skip = 0, params string[] extra) =>
        ReconcileAsync(Agent.Jit, server, repo, branch, stateDir, ns, crashAt, skip, extra);

    public static Task<Run> ReconcileAsync(Agent agent, KubeServer server, string repo, string branch, string stateDir, string ns, string? crashAt = null, int skip = 0, params string[] extra) =>
        RunAsync(agent, server, repo, branch, stateDir, ns, crashAt is null ? new Dictionary<string, string>() : new Dictionary<string, string>
        {
            ["EDGEOPS_CRASH_AT"] = crashAt,
            ["EDGEOPS_CRASH_TESTING"] = "1",
            ["EDGEOPS_CRASH_SKIP"] = skip.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, extra);

    /// <summary>One pass with the given environment added.</summary>
    public static Task<Run> RunAsync(KubeServer server, string repo, string branch, string stateDir, string ns, IReadOnlyDictionary<string, string> environment, params string[] extra) =>
        RunAsync(Agent.Jit, server, repo, branch, stateDir, ns, environment, extra);

    public static async Task<Run> RunAsync(Agent agent, KubeServer server, string repo, string branch, string stateDir, string ns, IReadOnlyDictionary<string, string> environment, params string[] extra)
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
        var withDebug = new Dictionary<string, string>(environment) { ["EDGEOPS_DEBUG"] = "1" };
        return await ExecAsync(agent, Directory.GetCurrentDirectory(), withDebug,
            [.. new[] { "reconcile", "--once", "--repo", repo, "--branch", branch, "--cluster", "edge-1", "--kubeconfig", kubeconfig, "--state-dir", stateDir, "--namespace", ns }, .. extra]);
    }

    /// <summary>Runs <paramref name="agent"/>'s edgeops with any arguments, in <paramref name="directory"/>.</summary>
    public static Task<Run> ExecAsync(Agent agent, string directory, params string[] args) =>
        ExecAsync(agent, directory, new Dictionary<string, string>(), args);

    private static async Task<Run> ExecAsync(Agent agent, string directory, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var psi = StartInfo(agent);
        psi.WorkingDirectory = directory;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

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

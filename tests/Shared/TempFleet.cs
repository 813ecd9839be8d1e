using System.Diagnostics;
using System.Text;

namespace EdgeOps.Tests;

/// <summary>A fleet repo in a temporary folder, written file by file, optionally a real Git repository.</summary>
internal sealed class TempFleet : IDisposable
{
    public const string FleetYaml = """
        apiVersion: edgeops.io/v1alpha1
        kind: Fleet
        metadata:
          name: test-fleet

        """;

    public TempFleet(bool withFleet = true)
    {
        Root = Path.Combine(Path.GetTempPath(), "edgeops-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        if (withFleet)
        {
            Write("fleet.yaml", FleetYaml);
        }
    }

    public string Root { get; }

    public TempFleet Write(string path, string content)
    {
        var full = Path.Combine(Root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content, new UTF8Encoding(false));
        return this;
    }

    public TempFleet WriteBytes(string path, byte[] content)
    {
        var full = Path.Combine(Root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        return this;
    }

    public TempFleet Symlink(string path, string target)
    {
        var full = Path.Combine(Root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.CreateSymbolicLink(full, target);
        return this;
    }

    public TempFleet Delete(string path)
    {
        File.Delete(Path.Combine(Root, path));
        return this;
    }

    public TempFleet Cluster(string name, string labels = "tier: far", string spec = "")
    {
        var text = $"""
            apiVersion: edgeops.io/v1alpha1
            kind: Cluster
            metadata:
              name: {name}
              labels:
                {labels.Replace("\n", "\n    ", StringComparison.Ordinal)}

            """;
        if (spec.Length > 0)
        {
            text += "spec:\n  " + spec.Replace("\n", "\n  ", StringComparison.Ordinal) + "\n";
        }

        return Write($"clusters/{name}.yaml", text);
    }

    /// <summary>
    /// fleet.yaml for a fleet named orchard whose default rollout has one wave per (name, ring), each selecting the
    /// clusters labelled <c>ring: RING</c>; <paramref name="rollout"/> adds rollout fields (one per line) and
    /// <paramref name="lastWave"/> fields of the last wave.
    /// </summary>
    public TempFleet WaveFleet((string Wave, string Ring)[] waves, string rollout = "", string lastWave = "")
    {
        var text = new StringBuilder("apiVersion: edgeops.io/v1alpha1\nkind: Fleet\nmetadata: {name: orchard}\nspec:\n  defaults:\n    rollout:\n");
        foreach (var line in rollout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            text.Append("      ").Append(line).Append('\n');
        }

        text.Append("      waves:\n");
        foreach (var (wave, ring) in waves)
        {
            text.Append($"        - name: {wave}\n          clusterSelector: {{matchLabels: {{ring: {ring}}}}}\n");
        }

        foreach (var line in lastWave.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            text.Append("          ").Append(line).Append('\n');
        }

        return Write("fleet.yaml", text.ToString());
    }

    /// <summary>A workload with one ConfigMap manifest; <paramref name="spec"/> adds spec fields.</summary>
    public TempFleet Workload(string name, string spec = "", string? manifest = null)
    {
        var text = $"""
            apiVersion: edgeops.io/v1alpha1
            kind: Workload
            metadata:
              name: {name}
            spec:
              manifests: [manifest.yaml]

            """;
        if (spec.Length > 0)
        {
            text += "  " + spec.Replace("\n", "\n  ", StringComparison.Ordinal) + "\n";
        }

        Write($"workloads/{name}/workload.yaml", text);
        return Write($"workloads/{name}/manifest.yaml", manifest ?? $"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {name}
            data:
              key: value

            """);
    }

    /// <summary>Attaches <paramref name="text"/> to a commit with <c>git notes</c>, as a CI job would.</summary>
    public void AddNote(string commit, string text, string notesRef)
    {
        var file = Path.Combine(Path.GetTempPath(), "edgeops-note-" + Guid.NewGuid().ToString("N")[..12]);
        File.WriteAllText(file, text);
        try
        {
            Git("notes", "--ref=" + notesRef, "add", "-f", "-F", file, commit);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public string Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git")
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "-c", "user.name=EdgeOps Test", "-c", "user.email=test@edgeops.invalid", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false" }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {error}");
        }

        return output.Trim();
    }

    /// <summary>Commits everything and returns the new commit's id.</summary>
    public string Commit(string message)
    {
        if (!Directory.Exists(Path.Combine(Root, ".git")))
        {
            Git("init", "-q");
        }

        Git("add", "-A");
        Git("commit", "-q", "--allow-empty", "-m", message);
        return Git("rev-parse", "HEAD");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class RepoPaths
{
    /// <summary>The checkout's root folder (the one holding EdgeOps.sln).</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EdgeOps.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (EdgeOps.sln)");
    }

    public static string ExampleFleet => Path.Combine(Root, "examples", "fleet-repo");

    /// <summary>The golden broken fleets, one folder each.</summary>
    public static string BrokenFleets => Path.Combine(Root, "tests", "EdgeOps.Fleet.Tests", "testdata", "broken");

    public static TheoryData<string> BrokenFleetNames()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(BrokenFleets).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(dir));
        }

        return data;
    }
}

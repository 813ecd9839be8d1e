using System.Diagnostics;

namespace EdgeOps.Bench;

/// <summary>A fleet repo on disk, committed with the git CLI.</summary>
internal sealed class BenchRepo
{
    public string Root { get; } = Directory.CreateTempSubdirectory("edgeops-bench-repo-").FullName;

    public void Write(string path, string content)
    {
        var full = Path.Combine(Root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
    }

    public void Commit(string message)
    {
        if (!Directory.Exists(Path.Combine(Root, ".git")))
        {
            Git("init", "-q", "-b", "main");
        }

        Git("add", "-A");
        Git("-c", "user.name=Bench", "-c", "user.email=bench@edgeops.invalid", "commit", "-q", "-m", message);
    }

    private void Git(params string[] args)
    {
        using var git = Process.Start(new ProcessStartInfo("git", args) { WorkingDirectory = Root })!;
        git.WaitForExit();
    }
}

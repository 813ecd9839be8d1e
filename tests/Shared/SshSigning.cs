using System.Diagnostics;

namespace EdgeOps.Tests;

/// <summary>Real SSH keys from ssh-keygen and commits signed by real git (gpg.format=ssh).</summary>
internal static class SshSigning
{
    /// <summary>Creates an unencrypted key pair in <paramref name="folder"/>; returns the private key's path.</summary>
    public static string NewKey(string folder, string name, string type = "ed25519", int? bits = null)
    {
        var path = Path.Combine(folder, name);
        string[] size = bits is { } b ? ["-b", b.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
        SshKeygen([.. size, "-q", "-t", type, "-N", string.Empty, "-C", name, "-f", path]);
        return path;
    }

    /// <summary>Runs ssh-keygen with <paramref name="args"/>; fails the test if it fails.</summary>
    public static void SshKeygen(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("ssh-keygen", args) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"ssh-keygen {string.Join(' ', start.ArgumentList)}: {error}");
    }

    /// <summary>"type base64" of the key's public half, as allowed_signers lists it.</summary>
    public static string PublicKey(string key) => string.Join(' ', File.ReadAllText(key + ".pub").Split(' ').Take(2));

    /// <summary>Commits everything in the repo, signed with <paramref name="key"/>; returns the commit id.</summary>
    public static string SignedCommit(TempFleet repo, string key, string message)
    {
        if (!Directory.Exists(Path.Combine(repo.Root, ".git")))
        {
            repo.Git("init", "-q");
        }

        repo.Git("add", "-A");
        repo.Git("-c", "gpg.format=ssh", "-c", $"user.signingkey={key}", "commit", "-q", "--allow-empty", "-S", "-m", message);
        return repo.Git("rev-parse", "HEAD");
    }
}

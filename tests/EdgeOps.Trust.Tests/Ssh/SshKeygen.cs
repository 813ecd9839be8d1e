using System.Diagnostics;

namespace EdgeOps.Trust.Tests.Ssh;

/// <summary>Real keys and signatures from OpenSSH's ssh-keygen, in a temporary folder.</summary>
internal sealed class SshKeygen : IDisposable
{
    public SshKeygen()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("edgeops-ssh-").FullName;
    }

    public string Directory { get; }

    /// <summary>Creates a key pair; returns the private key's path (the public key is beside it, .pub).</summary>
    public string NewKey(string name, string type, int? bits = null)
    {
        var path = Path.Combine(Directory, name);
        var args = new List<string> { "-q", "-t", type, "-N", string.Empty, "-C", name, "-f", path };
        if (bits is { } b)
        {
            args.InsertRange(0, ["-b", b.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        Run(args);
        return path;
    }

    public string PublicKey(string privateKey) => File.ReadAllText(privateKey + ".pub").Trim();

    /// <summary>Signs <paramref name="message"/> in <paramref name="namespace"/>; returns the armored SSHSIG.</summary>
    public string Sign(string privateKey, byte[] message, string @namespace = "git")
    {
        var file = Path.Combine(Directory, Guid.NewGuid().ToString("n"));
        File.WriteAllBytes(file, message);
        Run(["-Y", "sign", "-f", privateKey, "-n", @namespace, file]);
        return File.ReadAllText(file + ".sig");
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Run(IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo("ssh-keygen") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ssh-keygen {string.Join(' ', args)} failed: {error}");
        }
    }
}

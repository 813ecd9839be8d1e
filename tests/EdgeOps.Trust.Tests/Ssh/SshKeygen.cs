namespace EdgeOps.Trust.Tests.Ssh;

/// <summary>Real keys and signatures from OpenSSH's ssh-keygen, in a temporary folder.</summary>
internal sealed class SshKeygen : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("edgeops-ssh-").FullName;

    /// <summary>Creates a key pair; returns the private key's path (the public key is beside it, .pub).</summary>
    public string NewKey(string name, string type, int? bits = null) => SshSigning.NewKey(Directory, name, type, bits);

    public string PublicKey(string privateKey) => File.ReadAllText(privateKey + ".pub").Trim();

    /// <summary>Signs <paramref name="message"/> in <paramref name="namespace"/>; returns the armored SSHSIG.</summary>
    public string Sign(string privateKey, byte[] message, string @namespace = "git")
    {
        var file = Path.Combine(Directory, Guid.NewGuid().ToString("n"));
        File.WriteAllBytes(file, message);
        SshSigning.SshKeygen(["-Y", "sign", "-f", privateKey, "-n", @namespace, file]);
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
}

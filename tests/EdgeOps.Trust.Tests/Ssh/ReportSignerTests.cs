using System.Diagnostics;
using System.Text;
using EdgeOps.Trust.Ssh;

namespace EdgeOps.Trust.Tests.Ssh;

/// <summary>Signing status reports with a cluster's Ed25519 key (SSHSIG, namespace edgeops-report), checked by this code and by ssh-keygen.</summary>
public sealed class ReportSignerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgeops-report-key-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string KeyGen(string type, string passphrase = "")
    {
        var path = Path.Combine(_dir, type + (passphrase.Length > 0 ? "-locked" : string.Empty));
        Run("ssh-keygen", "-q", "-t", type, "-N", passphrase, "-C", "robot-1", "-f", path);
        return path;
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    [Fact]
    public void Signature_VerifiesHere_AndWithSshKeygen()
    {
        var key = KeyGen("ed25519");
        using var signer = SshSigner.FromOpenSsh(File.ReadAllText(key));
        var report = Encoding.UTF8.GetBytes("{\"cluster\":\"robot-1\",\"outcome\":\"Applied\"}");

        var armored = signer.Sign(report, "edgeops-report");

        var signature = SshSignature.Parse(armored);
        Assert.True(signature.Verify(report, "edgeops-report"));
        Assert.False(signature.Verify(report, "git"));
        Assert.False(signature.Verify(Encoding.UTF8.GetBytes("{\"cluster\":\"robot-2\"}"), "edgeops-report"));
        Assert.Equal(File.ReadAllText(key + ".pub").Split(' ')[1], Convert.ToBase64String(signer.PublicKey.Blob));

        File.WriteAllBytes(Path.Combine(_dir, "report.json"), report);
        File.WriteAllText(Path.Combine(_dir, "report.json.sig"), armored);
        File.WriteAllText(Path.Combine(_dir, "allowed"), "robot-1 " + string.Join(' ', File.ReadAllText(key + ".pub").Split(' ').Take(2)) + "\n");
        var (code, output) = Run("sh", "-c", $"ssh-keygen -Y verify -f {_dir}/allowed -I robot-1 -n edgeops-report -s {_dir}/report.json.sig < {_dir}/report.json");
        Assert.True(code == 0, output);
    }

    [Fact]
    public void PassphraseProtectedKey_IsRefusedSayingWhy()
    {
        var key = KeyGen("ed25519", passphrase: "secret-words");

        var error = Assert.Throws<FormatException>(() => SshSigner.FromOpenSsh(File.ReadAllText(key)));

        Assert.Contains("protected by a passphrase", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RsaKey_IsRefusedSayingWhy()
    {
        var key = KeyGen("rsa");

        var error = Assert.Throws<FormatException>(() => SshSigner.FromOpenSsh(File.ReadAllText(key)));

        Assert.Contains("signed with Ed25519 keys; this is ssh-rsa", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a key at all")]
    [InlineData("-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----")]
    [InlineData("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----")]
    public void Garbage_IsAFormatError(string text) => Assert.Throws<FormatException>(() => SshSigner.FromOpenSsh(text));
}

using System.Text;
using EdgeOps.Trust.Ssh;

namespace EdgeOps.Trust.Tests.Ssh;

public sealed class SshSignatureTests : IDisposable
{
    private static readonly byte[] Message = Encoding.UTF8.GetBytes("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nrelease 42\n");
    private readonly SshKeygen _keygen = new();

    public static TheoryData<string, int?> KeyTypes() => new()
    {
        { "ed25519", null },
        { "ecdsa", 256 },
        { "ecdsa", 384 },
        { "rsa", 2048 },
    };

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void VerifiesWhatSshKeygenSigned(string type, int? bits)
    {
        var key = _keygen.NewKey($"{type}{bits}", type, bits);
        var signature = SshSignature.Parse(_keygen.Sign(key, Message));

        Assert.True(signature.Verify(Message, "git"));
        Assert.Equal("git", signature.Namespace);
        Assert.Equal(ParsePublic(_keygen.PublicKey(key)), signature.Key);
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void RejectsAlteredMessage(string type, int? bits)
    {
        var key = _keygen.NewKey($"{type}{bits}", type, bits);
        var signature = SshSignature.Parse(_keygen.Sign(key, Message));
        var altered = (byte[])Message.Clone();
        altered[^3] ^= 1;

        Assert.False(signature.Verify(altered, "git"));
    }

    [Fact]
    public void RejectsSignatureMadeForAnotherNamespace()
    {
        var key = _keygen.NewKey("k", "ed25519");
        var signature = SshSignature.Parse(_keygen.Sign(key, Message, "file"));

        Assert.Equal("file", signature.Namespace);
        Assert.False(signature.Verify(Message, "git"));
    }

    [Fact]
    public void FingerprintMatchesSshKeygen()
    {
        var key = _keygen.NewKey("k", "ed25519");
        var parsed = ParsePublic(_keygen.PublicKey(key));

        var start = new System.Diagnostics.ProcessStartInfo("ssh-keygen", ["-l", "-E", "sha256", "-f", key + ".pub"]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var listed = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        Assert.Contains(parsed.Fingerprint, listed, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a signature")]
    [InlineData("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n")]
    [InlineData("-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n")]
    public void MalformedSignatureIsAFormatError(string text)
    {
        Assert.Throws<FormatException>(() => SshSignature.Parse(text));
    }

    [Fact]
    public void EcdsaKeyOffTheCurve_FailsVerificationWithoutThrowing()
    {
        var key = _keygen.NewKey("k", "ecdsa", 256);
        var armored = _keygen.Sign(key, Message);
        var lines = armored.Trim().Split('\n');
        var blob = Convert.FromBase64String(string.Concat(lines[1..^1]));

        // SSHSIG(6) version(4) len(4) then the key: "ecdsa-sha2-nistp256"(4+19) "nistp256"(4+8) point(4+1+64).
        blob[6 + 4 + 4 + 23 + 12 + 4 + 1 + 10] ^= 0x5a;
        var tampered = $"{lines[0]}\n{Convert.ToBase64String(blob)}\n{lines[^1]}\n";
        var signature = SshSignature.Parse(tampered);

        Assert.False(signature.Verify(Message, "git"));
    }

    [Fact]
    public void TruncatedSignatureBlob_FailsVerificationWithoutThrowing()
    {
        var key = _keygen.NewKey("k", "ed25519");
        var good = ParsePublic(_keygen.PublicKey(key));
        byte[] shortSignature = [0, 0, 0, 11, .. "ssh-ed25519"u8.ToArray(), 0, 0, 0, 3, 1, 2, 3];

        Assert.False(good.Verify(Message, shortSignature));
        Assert.False(good.Verify(Message, [0, 0, 0, 99]));
    }

    [Theory]
    [InlineData("ed25519", null)]
    [InlineData("ecdsa", 256)]
    [InlineData("rsa", 2048)]
    public void RandomByteMutations_AreAllRejected_NeverThrowOtherwise(string type, int? bits)
    {
        var key = _keygen.NewKey("k", type, bits);
        var lines = _keygen.Sign(key, Message).Trim().Split('\n');
        var original = Convert.FromBase64String(string.Concat(lines[1..^1]));
        var random = new Random(20261127);
        var verified = new List<int>();
        var counted = 0;
        for (var i = 0; i < 500; i++)
        {
            var blob = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                blob[random.Next(blob.Length)] = (byte)random.Next(256);
            }

            if (blob.AsSpan().SequenceEqual(original))
            {
                continue; // the random bytes were the ones already there: nothing changed
            }

            counted++;
            var armored = $"{lines[0]}\n{Convert.ToBase64String(blob)}\n{lines[^1]}";
            try
            {
                if (SshSignature.Parse(armored).Verify(Message, "git"))
                {
                    verified.Add(i);
                }
            }
            catch (FormatException)
            {
            }
        }

        // Every byte of an SSHSIG blob is signed or checked — the reserved field too (it is part of the signed
        // data) — so no change may verify.
        Assert.True(counted > 400, $"only {counted} mutations changed the blob");
        Assert.True(verified.Count == 0, $"mutations {string.Join(", ", verified)} (seed 20261127) still verified");
    }

    [Fact]
    public void MalformedPublicKeysAreFormatErrors()
    {
        var good = ParsePublic(_keygen.PublicKey(_keygen.NewKey("k", "ed25519")));
        byte[] truncated = good.Blob[..^1];
        byte[] trailing = [.. good.Blob, 0];
        var weakRsa = _keygen.PublicKey(_keygen.NewKey("weak", "rsa", 1024)).Split(' ');

        Assert.Throws<FormatException>(() => SshPublicKey.FromBlob(truncated));
        Assert.Throws<FormatException>(() => SshPublicKey.FromBlob(trailing));
        Assert.Throws<FormatException>(() => SshPublicKey.Parse(weakRsa[0], weakRsa[1]));
        Assert.Throws<FormatException>(() => SshPublicKey.Parse("ssh-rsa", Convert.ToBase64String(good.Blob)));
        Assert.Throws<FormatException>(() => SshPublicKey.Parse("ssh-ed25519", "not base64!"));
    }

    public void Dispose() => _keygen.Dispose();

    private static SshPublicKey ParsePublic(string line)
    {
        var fields = line.Split(' ');
        return SshPublicKey.Parse(fields[0], fields[1]);
    }
}

using System.Diagnostics;
using System.Globalization;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Trust.Ssh;
using LibGit2Sharp;

namespace EdgeOps.Bench;

/// <summary>
/// Time to verify one SSH-signed commit in-process after warm-up, per key type, against the baseline of
/// <c>git verify-commit</c> (which runs ssh-keygen) on the same commit in the same run.
/// </summary>
internal static class CommitVerifyBenchmark
{
    public static int Run(int iterations, int batches)
    {
        var folder = Directory.CreateTempSubdirectory("edgeops-bench-sign-").FullName;
        try
        {
            Console.WriteLine($"{"key",-10} {"in-process median",18} {"git verify-commit median",26}");
            foreach (var (type, bits) in new[] { ("ed25519", 0), ("ecdsa", 256), ("rsa", 3072) })
            {
                var repo = Path.Combine(folder, type);
                var key = Path.Combine(folder, type + ".key");
                Run("ssh-keygen", folder, ["-q", "-t", type, .. bits > 0 ? new[] { "-b", bits.ToString(CultureInfo.InvariantCulture) } : [], "-N", string.Empty, "-f", key]);
                Run("git", folder, ["init", "-q", repo]);
                File.WriteAllText(Path.Combine(repo, "fleet.yaml"), "apiVersion: edgeops.io/v1alpha1\nkind: Fleet\nmetadata:\n  name: bench\n");
                Run("git", repo, ["add", "-A"]);
                Run("git", repo, ["-c", "user.name=Bench", "-c", "user.email=bench@edgeops.invalid", "-c", "gpg.format=ssh", "-c", $"user.signingkey={key}", "commit", "-q", "-S", "-m", "bench"]);
                var signersFile = Path.Combine(folder, type + ".allowed");
                File.WriteAllText(signersFile, "bench@edgeops.invalid " + string.Join(' ', File.ReadAllText(key + ".pub").Split(' ').Take(2)) + "\n");
                var signers = AllowedSigners.Parse(File.ReadAllText(signersFile));

                using var repository = new Repository(repo);
                var head = repository.Head.Tip.Sha;
                for (var i = 0; i < 50; i++)
                {
                    Check(SshRevisionVerifier.Verify(repository, head, signers));
                }

                var samples = new List<double>();
                for (var b = 0; b < batches; b++)
                {
                    var watch = Stopwatch.StartNew();
                    for (var i = 0; i < iterations; i++)
                    {
                        Check(SshRevisionVerifier.Verify(repository, head, signers));
                    }

                    samples.Add(watch.Elapsed.TotalMilliseconds / iterations);
                }

                var baseline = new List<double>();
                for (var b = 0; b < batches; b++)
                {
                    var watch = Stopwatch.StartNew();
                    Run("git", repo, ["-c", $"gpg.ssh.allowedSignersFile={signersFile}", "verify-commit", head]);
                    baseline.Add(watch.Elapsed.TotalMilliseconds);
                }

                Console.WriteLine($"{type + (bits > 0 ? bits.ToString(CultureInfo.InvariantCulture) : string.Empty),-10} {Median(samples),15:F3} ms {Median(baseline),23:F1} ms");
            }

            Console.WriteLine($"({batches} batches of {iterations} verifications after 50 warm-up; git: {batches} runs)");
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Check(RevisionVerdict verdict)
    {
        if (!verdict.Accepted)
        {
            throw new InvalidOperationException(verdict.Reason);
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static void Run(string file, string directory, string[] args)
    {
        var start = new ProcessStartInfo(file, args) { WorkingDirectory = directory, RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {error}");
        }
    }
}

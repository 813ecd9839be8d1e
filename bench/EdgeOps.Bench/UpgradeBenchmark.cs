using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Reconciler.Upgrades;
using EdgeOps.Trust.Tests.Sigstore;

namespace EdgeOps.Bench;

/// <summary>
/// The upgrade figures: download time against curl on the same loopback server (same run), the bytes fetched
/// again when a download cut at 50 % resumes, and the time from "healthy after the trial boot" to "committed"
/// beyond <c>commitAfter</c>, with the daemon's own requeue timing.
/// </summary>
internal static class UpgradeBenchmark
{
    public static async Task<int> RunAsync(int megabytes, int rounds)
    {
        var folder = Directory.CreateTempSubdirectory("edgeops-bench-upgrade-").FullName;
        try
        {
            using var server = new ArtifactServer();
            var image = new byte[megabytes * 1024 * 1024];
            Random.Shared.NextBytes(image);
            var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(image));
            var url = server.Add("os.img", image);
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };

            // Warm both once.
            await FetchAsync(http, folder, url, digest, image.Length);
            Curl(url, Path.Combine(folder, "curl.img"));
            var ours = new List<double>();
            var curl = new List<double>();
            for (var i = 0; i < rounds; i++)
            {
                ours.Add(await FetchAsync(http, folder, url, digest, image.Length));
                var watch = Stopwatch.StartNew();
                Curl(url, Path.Combine(folder, "curl.img"));
                curl.Add(watch.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine($"download {megabytes} MiB over loopback, median of {rounds}: edgeops {Median(ours):0} ms (incl. sha256 and fsync), curl {Median(curl):0} ms; overhead {Median(ours) / Median(curl):0.00}x");

            var extra = new List<double>();
            for (var i = 0; i < rounds; i++)
            {
                var dir = Path.Combine(folder, "resume-" + i.ToString(CultureInfo.InvariantCulture));
                server.ResetCounters();
                server.Misbehave(new ServeMode { CutAfter = image.Length / 2, Times = 1 });
                var result = await new ArtifactDownloader(http, dir, new DownloaderOptions { Backoff = TimeSpan.FromMilliseconds(10) })
                    .FetchAsync(new DownloadRequest(url, digest, image.Length, null, 3), CancellationToken.None);
                var remainder = image.Length - image.Length / 2;
                extra.Add((server.BytesSent - image.Length / 2 - remainder) * 100.0 / remainder);
                Directory.Delete(dir, recursive: true);
                if (result.Length != image.Length)
                {
                    throw new InvalidOperationException("resume produced a wrong length");
                }
            }

            Console.WriteLine($"resume after a cut at 50 %, median of {rounds}: {Median(extra):0.000} % more than the remainder fetched again");

            await CommitLatencyAsync(rounds: 3);
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<double> FetchAsync(HttpClient http, string folder, Uri url, string digest, long size)
    {
        var dir = Path.Combine(folder, "ours");
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        var watch = Stopwatch.StartNew();
        await new ArtifactDownloader(http, dir).FetchAsync(new DownloadRequest(url, digest, size, null, 0), CancellationToken.None);
        return watch.Elapsed.TotalMilliseconds;
    }

    private static void Curl(Uri url, string output)
    {
        using var process = Process.Start(new ProcessStartInfo("curl", ["-sS", "--fail", "-o", output, url.ToString()]))!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("curl failed");
        }
    }

    /// <summary>Passes run as the daemon runs them (sleeping what each asks), on a device whose health check passes at once.</summary>
    private static async Task CommitLatencyAsync(int rounds)
    {
        await using var kube = await KubeServer.StartAsync();
        var overheads = new List<double>();
        var commitAfter = TimeSpan.FromSeconds(10);
        for (var round = 0; round < rounds; round++)
        {
            var repo = new BenchRepo();
            using var sigstore = new VirtualSigstore();
            using var server = new ArtifactServer();
            using var device = new SimulatedDevice();
            var state = Directory.CreateTempSubdirectory("edgeops-bench-trial-").FullName;
            var identity = "https://github.com/pomona/os/.github/workflows/release.yml@refs/heads/main";
            repo.Write("fleet.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Fleet\nmetadata:\n  name: bench\n" + $"spec:\n  trust:\n    sigstore:\n      trustedRoot: trust/root.json\n      identities:\n        - issuer: {VirtualSigstore.DefaultIssuer}\n          subject: {identity}\n");
            repo.Write("trust/root.json", sigstore.TrustedRootJson());
            repo.Write("clusters/edge-1.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: edge-1\n  labels: {tier: far}\n");
            var image = SimulatedDevice.Image("2026.11.2");
            repo.Write("upgrades/os.sigstore.json", sigstore.SignMessage(image, new SignOptions { Identity = identity }));
            File.WriteAllText(Path.Combine(device.Root, "healthy"), "ok");
            repo.Write("upgrades/os.yaml", $"""
                apiVersion: edgeops.io/v1alpha1
                kind: UpgradePlan
                metadata:
                  name: os
                spec:
                  component: os
                  version: "2026.11.2"
                  artifact:
                    url: {server.Add("os.img", image)}
                    digest: sha256:{Convert.ToHexStringLower(SHA256.HashData(image))}
                    size: {image.Length}
                    bundle: upgrades/os.sigstore.json
                  slots:
                    backend: command
                  healthChecks:
                    - name: ready
                      exec:
                        command: [test, -f, {device.Root}/healthy]
                  commitAfter: {(int)commitAfter.TotalSeconds}s
                """);
            repo.Commit("os");
            using var api = new KubeApi(kube.Configuration);
            var reconciler = new Reconciler.Pipeline.Reconciler(new ReconcilerOptions
            {
                Source = new GitSourceOptions { Url = repo.Root, Branch = "main", CacheDirectory = Path.Combine(state, "repo.git") },
                Cluster = "edge-1",
                StateDirectory = state,
                Namespace = "edgeops-bench-" + round.ToString(CultureInfo.InvariantCulture),
                Identity = "edge-1/bench",
                Upgrades = new UpgradeOptions { Backend = new CommandSlotBackend(device.Executable) },
            }, api);
            var journal = new UpgradeJournal(state);
            for (var pass = 0; pass < 40 && journal.Read()?.Phase != UpgradePhase.Committed; pass++)
            {
                if (device.RebootRequests > 0)
                {
                    device.Boot();
                }

                var result = await reconciler.RunOnceAsync(CancellationToken.None);
                if (result.RequeueAfter is { } after && journal.Read()?.Phase == UpgradePhase.Trial)
                {
                    await Task.Delay(after);
                }
            }

            var record = journal.Read()!;
            var committed = record.PhaseTimes[nameof(UpgradePhase.Committed)];
            overheads.Add((committed - record.HealthyAt!.Value - commitAfter).TotalMilliseconds);
            Directory.Delete(state, recursive: true);
            Directory.Delete(repo.Root, recursive: true);
        }

        Console.WriteLine($"healthy after the trial boot to committed, minus commitAfter ({commitAfter.TotalSeconds:0} s), median of {rounds}: {Median(overheads):0} ms (default poll interval 5 s)");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

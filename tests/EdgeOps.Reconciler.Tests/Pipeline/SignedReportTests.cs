using System.Diagnostics;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;
using EdgeOps.Trust.Ssh;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>
/// Status reports signed by the cluster's own key (SSHSIG, namespace edgeops-report), whose public half the fleet
/// repo lists in the Cluster object: a report verifies against that key, and not once it is altered.
/// </summary>
[Collection("kube")]
public sealed class SignedReportTests(KubeServerFixture fixture) : IDisposable
{
    private readonly TempFleet _repo = new();
    private readonly string _state = Directory.CreateTempSubdirectory("edgeops-signed-").FullName;

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task Report_IsSignedByTheClusterKey_TheFleetLists()
    {
        var key = Path.Combine(_state, "report-key");
        using (var keygen = Process.Start("ssh-keygen", ["-q", "-t", "ed25519", "-N", string.Empty, "-C", "robot-1", "-f", key])!)
        {
            await keygen.WaitForExitAsync();
        }

        var publicLine = (await File.ReadAllTextAsync(key + ".pub")).Trim();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        _repo.Cluster("robot-1", "tier: micro", $"reportKey: \"{publicLine}\"");
        _repo.Workload("app", manifest: $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: signed-{suffix}}}\n");
        _repo.Commit("a cluster with its report key");
        using var api = new KubeApi(fixture.Server.Configuration);
        using var signer = SshSigner.FromOpenSsh(await File.ReadAllTextAsync(key));
        var agent = new EdgeOps.Reconciler.Pipeline.Reconciler(new ReconcilerOptions
        {
            Source = new GitSourceOptions { Url = _repo.Root, Branch = "main", CacheDirectory = Path.Combine(_state, "repo.git") },
            Cluster = "robot-1",
            StateDirectory = _state,
            Namespace = "edgeops-" + suffix,
            Identity = "robot-1/test",
            ReportSigner = signer,
        }, api);

        var result = await agent.RunOnceAsync(CancellationToken.None);

        Assert.Equal(PassOutcome.Applied, result.Outcome);
        var report = await File.ReadAllBytesAsync(Path.Combine(_state, "status.json"));
        var signature = SshSignature.Parse(await File.ReadAllTextAsync(Path.Combine(_state, "status.json.sig")));
        var fleet = new Fleet.Loading.FleetLoader().Load(new Fleet.Sources.FleetFiles(new Fleet.Sources.DirectoryFleetSource(_repo.Root)), new Fleet.Diagnostics.DiagnosticBag());
        var listed = fleet.Clusters.Single().ReportKey!.Value.Split(' ');
        Assert.Equal(listed[1], Convert.ToBase64String(signature.Key.Blob));
        Assert.True(signature.Verify(report, EdgeOps.Reconciler.Pipeline.Reconciler.ReportNamespace));
        report[^3] ^= 1;
        Assert.False(signature.Verify(report, EdgeOps.Reconciler.Pipeline.Reconciler.ReportNamespace));
    }
}

using System.Text.RegularExpressions;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>
/// The NativeAOT builds are what the agent ships as: for linux-x64 and, under qemu-user, linux-arm64, they
/// validate as the framework-dependent build does and apply a pass against the test API server whose
/// records (state, status, inventory) the framework-dependent build reads and carries on from. The crash-point
/// theories in <see cref="CrashRecoveryTests"/> run against the x64 AOT build as well.
/// </summary>
[Collection("kube")]
public sealed partial class AotAgentTests(KubeServerFixture fixture) : IDisposable
{
    private readonly TempFleet _repo = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly string _state = Path.Combine(Path.GetTempPath(), "edgeops-aot-" + Guid.NewGuid().ToString("N")[..10]);

    public static TheoryData<Agent> NativeAgents() => new() { Agent.Aot, Agent.AotArm64 };

    [Theory]
    [MemberData(nameof(NativeAgents))]
    public async Task Validate_OfTheExampleFleet_PrintsWhatTheJitBuildPrints(Agent agent)
    {
        var jit = await ReconcilerProcess.ExecAsync(Agent.Jit, RepoPaths.ExampleFleet, "validate", ".", "-o", "json");
        var native = await ReconcilerProcess.ExecAsync(agent, RepoPaths.ExampleFleet, "validate", ".", "-o", "json");

        Assert.True(native.ExitCode == 0, native.Output + native.Error);
        Assert.Equal(jit.ExitCode, native.ExitCode);
        Assert.Equal(WithoutTimings(jit.Output), WithoutTimings(native.Output));
        Assert.Contains("\"clusters\"", native.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NativeAgents))]
    public async Task Validate_OfABrokenFleet_ReportsTheSameLocatedErrors(Agent agent)
    {
        _repo.Cluster("edge-1").Write("workloads/app/workload.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Workload\nmetadata:\n  name: app\nspec:\n  manifests: [missing.yaml]\n  replicaz: 2\n");
        var jit = await ReconcilerProcess.ExecAsync(Agent.Jit, _repo.Root, "validate", ".");
        var native = await ReconcilerProcess.ExecAsync(agent, _repo.Root, "validate", ".");

        Assert.NotEqual(0, native.ExitCode);
        Assert.Equal(jit.ExitCode, native.ExitCode);
        Assert.Matches(@"workloads/app/workload\.yaml:\d+:\d+: error EO\d{4}", native.Output + native.Error);
        Assert.Equal(WithoutTimings(jit.Output + jit.Error), WithoutTimings(native.Output + native.Error));
        Assert.DoesNotContain("   at ", native.Error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NativeAgents))]
    public async Task Collector_IsNotInTheNativeAgent_AndSaysWhereItIs(Agent agent)
    {
        var run = await ReconcilerProcess.ExecAsync(agent, _repo.Root, "collector", "--fleet", _repo.Root);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("edgeops: the collector is not in this build of edgeops, the NativeAOT agent; run it from the framework-dependent build", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("--fleet", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NativeAgents))]
    public async Task Validate_OfAGitRevision_AndOfTheChangesSinceOne_PrintsWhatTheJitBuildPrints(Agent agent)
    {
        _repo.Cluster("edge-1", "tier: far").Cluster("edge-2", "tier: near");
        _repo.Workload("app", spec: "placement:\n  clusterSelector:\n    matchLabels: {tier: far}");
        var first = _repo.Commit("first");
        _repo.Workload("app", spec: "placement:\n  clusterSelector:\n    matchLabels: {tier: far}", manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  key: changed\n");

        foreach (var args in new[] { new[] { "validate", ".", "--rev", first }, ["validate", ".", "--changed-since", first] })
        {
            var jit = await ReconcilerProcess.ExecAsync(Agent.Jit, _repo.Root, args);
            var native = await ReconcilerProcess.ExecAsync(agent, _repo.Root, args);
            Assert.True(native.ExitCode == 0, native.Output + native.Error);
            Assert.Equal(WithoutTimings(jit.Output), WithoutTimings(native.Output));
        }
    }

    [Theory]
    [MemberData(nameof(NativeAgents))]
    public async Task OnePass_AppliesTheFleet_AndTheJitBuildCarriesOnFromItsRecords(Agent agent)
    {
        var ns = "aot-" + _suffix;
        _repo.Cluster("edge-1");
        _repo.Workload("app", manifest: $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {ns}}}\ndata: {{mode: native}}\n");
        var revision = _repo.Commit("one ConfigMap");

        var pass = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "main", _state, "edgeops-" + _suffix);
        Assert.True(pass.ExitCode == 0, pass.Output + pass.Error);

        using var api = new KubeApi(fixture.Server.Configuration);
        var configMaps = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        var live = await api.GetAsync(configMaps, ns, "settings", CancellationToken.None);
        Assert.Equal("native", live?["data"]?["mode"]?.ToString());

        // What the native build wrote is what the framework-dependent code reads.
        Assert.Equal(revision, ReconcilerState.Load(_state).AppliedRevision);
        var status = StatusReport.Read(Path.Combine(_state, "status.json"));
        Assert.NotNull(status);
        Assert.Equal((nameof(PassOutcome.Applied), "edge-1", revision), (status.Outcome, status.Cluster, status.AppliedRevision));
        Assert.Contains(status.Conditions, c => c is { Type: "Ready", Status: "True" });
        var inventory = await new InventoryStore(api, "edgeops-" + _suffix).LoadAsync(CancellationToken.None);
        Assert.Equal(revision, inventory.Revision);
        Assert.Contains(inventory.Entries, e => e is { Kind: "ConfigMap", Name: "settings" });

        // And the framework-dependent agent takes over from those records without redoing anything.
        var next = await ReconcilerProcess.ReconcileAsync(Agent.Jit, fixture.Server, _repo.Root, "main", _state, "edgeops-" + _suffix);
        Assert.True(next.ExitCode == 0, next.Output + next.Error);
        Assert.Equal(nameof(PassOutcome.Unchanged), StatusReport.Read(Path.Combine(_state, "status.json"))!.Outcome);
    }

    [Theory]
    [MemberData(nameof(NativeAgents))]
    public async Task OnePass_SendsASignedReportTheCollectorAccepts(Agent agent)
    {
        var key = SshSigning.NewKey(Path.GetTempPath(), "aot-report-" + _suffix);
        try
        {
            _repo.Cluster("edge-1", "tier: far", $"reportKey: \"{SshSigning.PublicKey(key)}\"");
            _repo.Workload("app", manifest: $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: reported, namespace: aot-{_suffix}}}\n");
            var revision = _repo.Commit("one ConfigMap, reported");
            await using var collector = await EdgeOps.Collector.Tests.Infrastructure.CollectorBed.StartAsync(_repo);

            var pass = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "main", _state, "edgeops-" + _suffix, null, 0,
                "--collector", collector.Url.AbsoluteUri, "--report-key", key);

            Assert.True(pass.ExitCode == 0, pass.Output + pass.Error);
            var row = Assert.Single(await collector.Client.GetClustersAsync(null, CancellationToken.None));
            Assert.Equal((revision, "Applied", true), (row.Report?.Applied, row.Report?.Outcome, row.Report?.Healthy ?? false));
            Assert.Equal(0, StatusReport.Read(Path.Combine(_state, "status.json"))!.Collector?.Pending ?? -1);
        }
        finally
        {
            File.Delete(key);
            File.Delete(key + ".pub");
        }
    }

    [Theory]
    [MemberData(nameof(NativeAgents))]
    public async Task OnePass_AppliesASignedCommit_AndRefusesAnUnsignedOne(Agent agent)
    {
        var key = SshSigning.NewKey(Path.GetTempPath(), "aot-signer-" + _suffix);
        var signers = key + ".allowed";
        try
        {
            File.WriteAllText(signers, $"test@edgeops.invalid {SshSigning.PublicKey(key)}\n");
            _repo.Cluster("edge-1");
            _repo.Workload("app", manifest: $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: signed, namespace: aot-{_suffix}}}\n");
            var signed = SshSigning.SignedCommit(_repo, key, "signed");

            var pass = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "main", _state, "edgeops-" + _suffix, null, 0, "--allowed-signers", signers);
            Assert.True(pass.ExitCode == 0, pass.Output + pass.Error);
            Assert.Equal(signed, ReconcilerState.Load(_state).AppliedRevision);

            _repo.Workload("app", manifest: $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: unsigned, namespace: aot-{_suffix}}}\n");
            _repo.Commit("unsigned");
            var refused = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "main", _state, "edgeops-" + _suffix, null, 0, "--allowed-signers", signers);
            Assert.True(refused.ExitCode == 1, refused.Output + refused.Error);
            Assert.Contains("not signed", refused.Output, StringComparison.Ordinal);
            Assert.Equal(signed, ReconcilerState.Load(_state).AppliedRevision);
        }
        finally
        {
            File.Delete(key);
            File.Delete(key + ".pub");
            File.Delete(signers);
        }
    }

    [Theory]
    [MemberData(nameof(NativeAgents))]
    public async Task OnePass_AppliesASigstoreSignedRevision_AndRefusesOneWithoutOrWithABrokenBundle(Agent agent)
    {
        // The bundle is read from a note (refs/notes/edgeops-signatures) and checked with the Sigstore verifier
        // under NativeAOT: the note API, the bundle's JSON, the X.509 chain, the transparency-log entry.
        const string Release = "https://github.com/pomona/fleet/.github/workflows/release.yml@refs/heads/main";
        using var sigstore = new EdgeOps.Trust.Tests.Sigstore.VirtualSigstore();
        _repo.Cluster("edge-1");
        _repo.Write("fleet.yaml", TempFleet.FleetYaml + $"spec:\n  trust:\n    commits:\n      mode: sigstore\n    sigstore:\n      trustedRoot: trust/sigstore-trusted-root.json\n" +
            $"      identities:\n        - issuer: {EdgeOps.Trust.Tests.Sigstore.VirtualSigstore.DefaultIssuer}\n          subject: {Release}\n");
        _repo.Write("trust/sigstore-trusted-root.json", sigstore.TrustedRootJson());
        _repo.Workload("app", manifest: $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: released, namespace: aot-{_suffix}}}\n");
        var signed = _repo.Commit("signed release");
        _repo.AddNote(signed, Bundle(sigstore, signed, Release), FleetTrustVerifier.SignatureNotes);

        var pass = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "main", _state, "edgeops-" + _suffix);
        Assert.True(pass.ExitCode == 0, pass.Output + pass.Error);
        Assert.Contains($"signed by {Release}", pass.Output, StringComparison.Ordinal);
        Assert.Equal(signed, ReconcilerState.Load(_state).AppliedRevision);

        _repo.Workload("app", manifest: $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: unreleased, namespace: aot-{_suffix}}}\n");
        var next = _repo.Commit("no bundle yet");
        var refused = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "main", _state, "edgeops-" + _suffix);
        Assert.True(refused.ExitCode == 1, refused.Output + refused.Error);
        Assert.Contains("has no Sigstore bundle in refs/notes/edgeops-signatures", refused.Output, StringComparison.Ordinal);

        // A bundle whose signature was altered by one bit.
        var bundle = System.Text.Json.Nodes.JsonNode.Parse(Bundle(sigstore, next, Release))!;
        var signature = Convert.FromBase64String(bundle["messageSignature"]!["signature"]!.GetValue<string>());
        signature[^3] ^= 1;
        bundle["messageSignature"]!["signature"] = Convert.ToBase64String(signature);
        _repo.AddNote(next, bundle.ToJsonString(), FleetTrustVerifier.SignatureNotes);
        var tampered = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, _repo.Root, "main", _state, "edgeops-" + _suffix);
        Assert.True(tampered.ExitCode == 1, tampered.Output + tampered.Error);
        Assert.Contains("rejected (signature)", tampered.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", tampered.Output + tampered.Error, StringComparison.Ordinal);
        Assert.Equal(signed, ReconcilerState.Load(_state).AppliedRevision);
    }

    [Theory]
    [MemberData(nameof(NativeAgents))]
    public async Task OnePass_SyncsOverSmartHttpWithCredentials_AndRefusesWrongOnesWithoutShowingThem(Agent agent)
    {
        // The way a robot reaches its fleet: git's smart HTTP with a token, through libgit2's credential callback.
        var ns = "aot-" + _suffix;
        _repo.Cluster("edge-1");
        _repo.Workload("app", manifest: $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: fetched, namespace: {ns}}}\ndata: {{round: one}}\n");
        var first = _repo.Commit("served over http");
        using var http = new GitHttpBackend(Path.GetDirectoryName(_repo.Root)!, "fleet-bot:s3cr3t-token");
        var url = new Uri(http.Uri, Path.GetFileName(_repo.Root)).ToString();
        var credentials = _state + "-credentials";
        try
        {
            File.WriteAllText(credentials, "fleet-bot:not-the-token\n");
            var refused = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, url, "main", _state, "edgeops-" + _suffix, null, 0, "--credentials-file", credentials);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.DoesNotContain("not-the-token", refused.Output + refused.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", refused.Output + refused.Error, StringComparison.Ordinal);
            Assert.Null(ReconcilerState.Load(_state).AppliedRevision);

            File.WriteAllText(credentials, "fleet-bot:s3cr3t-token\n");
            var pass = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, url, "main", _state, "edgeops-" + _suffix, null, 0, "--credentials-file", credentials);
            Assert.True(pass.ExitCode == 0, pass.Output + pass.Error);
            Assert.Equal(first, ReconcilerState.Load(_state).AppliedRevision);
            Assert.DoesNotContain("s3cr3t-token", pass.Output + pass.Error, StringComparison.Ordinal);

            // The next revision arrives by an incremental fetch into the agent's cache.
            _repo.Workload("app", manifest: $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: fetched, namespace: {ns}}}\ndata: {{round: two}}\n");
            var second = _repo.Commit("second revision");
            http.ResetCounters();
            var next = await ReconcilerProcess.ReconcileAsync(agent, fixture.Server, url, "main", _state, "edgeops-" + _suffix, null, 0, "--credentials-file", credentials);
            Assert.True(next.ExitCode == 0, next.Output + next.Error);
            Assert.Equal(second, ReconcilerState.Load(_state).AppliedRevision);
            Assert.True(http.Bytes.Sent > 0, "the second pass fetched nothing over http");

            using var api = new KubeApi(fixture.Server.Configuration);
            var configMaps = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
            Assert.Equal("two", (await api.GetAsync(configMaps, ns, "fetched", CancellationToken.None))?["data"]?["round"]?.ToString());
        }
        finally
        {
            File.Delete(credentials);
        }
    }

    /// <summary>
    /// Every sigstore-conformance bundle-verify case (../shared) through the native <c>verify-bundle</c>: the same
    /// verdict and the same words as the framework-dependent build, whose verdicts the conformance suite checks.
    /// </summary>
    [SkippableFact]
    public async Task VerifyBundle_OfEveryConformanceCase_SaysWhatTheJitBuildSays()
    {
        const string DefaultIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
        const string DefaultIssuer = "https://token.actions.githubusercontent.com";
        var cases = GroundTruth.Folder("sigstore-conformance", "bundle-verify");
        Skip.IfNot(GroundTruth.Present(cases), $"the sigstore-conformance cases are not at {cases} (they come with ../shared beside the checkout)");
        static string? Read(string folder, string file) => File.Exists(Path.Combine(folder, file)) ? File.ReadAllText(Path.Combine(folder, file)).Trim() : null;

        var verified = 0;
        foreach (var folder in Directory.EnumerateDirectories(cases).Order(StringComparer.Ordinal))
        {
            var artifact = File.Exists(Path.Combine(folder, "artifact")) ? Path.Combine(folder, "artifact") : Path.Combine(cases, "a.txt");
            var args = new List<string> { "verify-bundle", "--bundle", Path.Combine(folder, "bundle.sigstore.json") };
            args.AddRange(File.Exists(Path.Combine(folder, "key.pub"))
                ? ["--key", Path.Combine(folder, "key.pub")]
                : ["--certificate-identity", Read(folder, "identity") ?? DefaultIdentity, "--certificate-oidc-issuer", Read(folder, "issuer") ?? DefaultIssuer]);
            if (File.Exists(Path.Combine(folder, "trusted_root.json")))
            {
                args.AddRange(["--trusted-root", Path.Combine(folder, "trusted_root.json")]);
            }

            args.Add(artifact);
            var jit = await ReconcilerProcess.ExecAsync(Agent.Jit, folder, [.. args]);
            var native = await ReconcilerProcess.ExecAsync(Agent.Aot, folder, [.. args]);

            var name = Path.GetFileName(folder);
            Assert.True((jit.ExitCode, jit.Output, jit.Error) == (native.ExitCode, native.Output, native.Error),
                $"{name}: the JIT build exits {jit.ExitCode} ({jit.Output}{jit.Error}), the native one {native.ExitCode} ({native.Output}{native.Error})");
            Assert.Equal(name.EndsWith("_fail", StringComparison.Ordinal) ? 1 : 0, native.ExitCode);
            verified += native.ExitCode == 0 ? 1 : 0;
        }

        Assert.True(verified > 0, "no conformance case verified");
    }

    private static string Bundle(EdgeOps.Trust.Tests.Sigstore.VirtualSigstore sigstore, string commit, string identity) =>
        sigstore.SignMessage(System.Text.Encoding.UTF8.GetBytes(commit), new EdgeOps.Trust.Tests.Sigstore.SignOptions { Identity = identity });

    private static string WithoutTimings(string text) => Timing().Replace(text, "(…s)");

    [GeneratedRegex(@"\(\d+(\.\d+)?s\)|""durationSeconds"": ?[0-9.]+|""seconds"": ?[0-9.]+")]
    private static partial Regex Timing();

    public void Dispose()
    {
        _repo.Dispose();
        try
        {
            Directory.Delete(_state, recursive: true);
            File.Delete(_state + "-kubeconfig");
        }
        catch (IOException)
        {
        }
    }
}

using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.Tests.Infrastructure;
using EdgeOps.Tests;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>One pass at a time, in-process, against the real API server and real Git repositories.</summary>
[Collection("kube")]
public sealed class ReconcilerPassTests(KubeServerFixture fixture) : IDisposable
{
    private readonly TempFleet _repo = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly string _state = Path.Combine(Path.GetTempPath(), "edgeops-pass-" + Guid.NewGuid().ToString("N")[..10]);

    private string Ns => $"pass-{_suffix}";

    private string ConfigMaps(params string[] names) =>
        $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {Ns}}}\n" + string.Concat(names.Select(n => $"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}, namespace: {Ns}}}\ndata: {{k: {n}}}\n"));

    private EdgeOps.Reconciler.Pipeline.Reconciler NewReconciler(KubeApi api, string? url = null, bool allowRollback = false, IRevisionVerifier? verifier = null) => new(new ReconcilerOptions
    {
        Source = new GitSourceOptions { Url = url ?? _repo.Root, Branch = "main", CacheDirectory = Path.Combine(_state, "repo.git") },
        Cluster = "edge-1",
        StateDirectory = _state,
        Namespace = "edgeops-" + _suffix,
        Identity = "edge-1/test-install",
        HealthTimeout = TimeSpan.FromSeconds(20),
        AllowRollback = allowRollback,
        Verifier = verifier ?? FleetTrustVerifier.Instance,
    }, api);

    private async Task<bool> ExistsAsync(KubeApi api, string name)
    {
        var resource = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        return await api.GetAsync(resource, Ns, name, CancellationToken.None) is not null;
    }

    private string CommitFleet(string manifest, string message, string? fleetSpec = null)
    {
        if (fleetSpec is not null)
        {
            _repo.Write("fleet.yaml", TempFleet.FleetYaml + fleetSpec);
        }

        _repo.Cluster("edge-1", "tier: far");
        _repo.Workload("app", manifest: manifest);
        return _repo.Commit(message);
    }

    [Fact]
    public async Task Pass_AppliesThenIsUnchangedWithoutWriting_AndReportsStatus()
    {
        var first = CommitFleet(ConfigMaps("a"), "first");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);

        var applied = await reconciler.RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Applied, first), (applied.Outcome, applied.AppliedRevision));
        Assert.Equal(PassOutcome.Unchanged, (await reconciler.RunOnceAsync(CancellationToken.None)).Outcome);
        var writes = api.Counters.Writes;
        var again = await reconciler.RunOnceAsync(CancellationToken.None);

        // An idle pass reads; it writes neither objects nor an unchanged status.
        Assert.Equal(PassOutcome.Unchanged, again.Outcome);
        Assert.Equal(writes, api.Counters.Writes);
        var report = StatusReport.Read(Path.Combine(_state, "status.json"))!;
        Assert.Equal((first, "Unchanged", "True"), (report.AppliedRevision, report.Outcome, report.Conditions.Single(c => c.Type == "Ready").Status));
        var configMaps = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
        var inCluster = await api.GetAsync(configMaps, "edgeops-" + _suffix, "edgeops-status", CancellationToken.None);
        Assert.Equal(first, inCluster!["data"]!["appliedRevision"]!.ToString());
    }

    [Fact]
    public async Task Pass_InvalidRevision_KeepsTheLastGoodOneAndDoesNotRetryIt()
    {
        var good = CommitFleet(ConfigMaps("a"), "good");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);
        await reconciler.RunOnceAsync(CancellationToken.None);
        var bad = CommitFleet(ConfigMaps("a") + $"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: b, namespace: {Ns}}}\ndata:\n  k: ${{cluster.labels.nope}}\n", "unknown variable");

        var invalid = await reconciler.RunOnceAsync(CancellationToken.None);
        var later = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal((PassOutcome.Invalid, good, bad), (invalid.Outcome, invalid.AppliedRevision, invalid.AttemptedRevision));
        Assert.Contains("EO5001", invalid.Message, StringComparison.Ordinal);
        Assert.Equal(PassOutcome.Unchanged, later.Outcome);
        Assert.Contains("failed before", later.Message, StringComparison.Ordinal);
        Assert.False(await ExistsAsync(api, "b"));
    }

    [Fact]
    public async Task Pass_PolicyDenial_KeepsTheLastGoodRevision()
    {
        CommitFleet(ConfigMaps("a"), "good", "spec:\n  policies:\n    builtIn: [pod-security-baseline]\n");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);
        Assert.Equal(PassOutcome.Applied, (await reconciler.RunOnceAsync(CancellationToken.None)).Outcome);
        CommitFleet(ConfigMaps("a") + $"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: root, namespace: {Ns}}}\nspec:\n  hostPID: true\n  containers: [{{name: c, image: \"busybox:1.36\"}}]\n", "privileged pod");

        var denied = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal(PassOutcome.Invalid, denied.Outcome);
        Assert.Contains("pod-security-baseline/hostNamespaces", denied.Message, StringComparison.Ordinal);
        Assert.Contains(denied.Report.Violations, v => v.Contains("hostNamespaces", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pass_ApplyRejectedByTheServer_RollsBackToTheLastGoodRevision()
    {
        var good = CommitFleet(ConfigMaps("a"), "good");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);
        await reconciler.RunOnceAsync(CancellationToken.None);
        CommitFleet(ConfigMaps("a", "b") + $"---\napiVersion: v1\nkind: Service\nmetadata: {{name: bad, namespace: {Ns}}}\nspec:\n  ports: [{{port: 99999}}]\n", "invalid port");

        var result = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal((PassOutcome.RolledBack, good), (result.Outcome, result.AppliedRevision));
        Assert.Contains("apply failed", result.Message, StringComparison.Ordinal);
        Assert.Single(result.Report.FailedObjects);
        Assert.False(await ExistsAsync(api, "b"), "what the failed attempt created is removed");
    }

    [Fact]
    public async Task Pass_ApiServerFailingMidApply_RollsBackAndReports()
    {
        var good = CommitFleet(ConfigMaps("a"), "good");
        await using var proxy = new FaultProxy(fixture.Server.ServerUri);
        using var api = new KubeApi(new KubeConnection { Server = new Uri(proxy.Uri.ToString()), Token = fixture.Server.Token, SkipTlsVerify = true },
            new KubeApiOptions { InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50) });
        var reconciler = NewReconciler(api);
        await reconciler.RunOnceAsync(CancellationToken.None);
        CommitFleet(ConfigMaps("a", "b", "c"), "more");
        proxy.Plan = (_, request) => request.HttpMethod == "PATCH" && request.RawUrl!.Contains("/configmaps/c", StringComparison.Ordinal) ? FaultKind.ServerError : FaultKind.None;

        var result = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal((PassOutcome.RolledBack, good), (result.Outcome, result.AppliedRevision));
        Assert.Contains("API server unavailable", result.Message, StringComparison.Ordinal);
        Assert.False(await ExistsAsync(api, "b"));
    }

    [Fact]
    public async Task Pass_HistoryRewritten_IsRefusedUnlessAllowed()
    {
        var first = CommitFleet(ConfigMaps("a"), "first");
        var second = CommitFleet(ConfigMaps("a", "b"), "second");
        using var api = new KubeApi(fixture.Server.Configuration);
        await NewReconciler(api).RunOnceAsync(CancellationToken.None);
        _repo.Git("reset", "-q", "--hard", first);

        var refused = await NewReconciler(api).RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Refused, second), (refused.Outcome, refused.AppliedRevision));
        Assert.Contains("not a descendant", refused.Message, StringComparison.Ordinal);
        Assert.Equal("True", refused.Report.Conditions.Single(c => c.Type == "Stalled").Status);

        var allowed = await NewReconciler(api, allowRollback: true).RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Applied, first), (allowed.Outcome, allowed.AppliedRevision));
        Assert.False(await ExistsAsync(api, "b"));
    }

    [Fact]
    public async Task Pass_RepoUnreachable_AtFirstStartAndLater()
    {
        using var api = new KubeApi(fixture.Server.Configuration);
        var nothing = await NewReconciler(api, "git://127.0.0.1:1/fleet").RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Offline, (string?)null), (nothing.Outcome, nothing.AppliedRevision));
        Assert.StartsWith("cannot reach git://127.0.0.1:1/fleet", nothing.Message, StringComparison.Ordinal);

        Directory.Delete(_state, recursive: true);
        var good = CommitFleet(ConfigMaps("a"), "good");
        await NewReconciler(api).RunOnceAsync(CancellationToken.None);
        var moved = _repo.Root + "-moved";
        Directory.Move(_repo.Root, moved);
        try
        {
            var offline = await NewReconciler(api).RunOnceAsync(CancellationToken.None);
            Assert.Equal((PassOutcome.Unchanged, good), (offline.Outcome, offline.AppliedRevision));
            Assert.StartsWith("offline", offline.Message, StringComparison.Ordinal);
            Assert.NotNull(offline.Report.OfflineSince);
            Assert.True(await ExistsAsync(api, "a"));
        }
        finally
        {
            Directory.Move(moved, _repo.Root);
        }
    }

    [Fact]
    public async Task Pass_BranchDeleted_KeepsWhatRuns()
    {
        var good = CommitFleet(ConfigMaps("a"), "good");
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);
        await reconciler.RunOnceAsync(CancellationToken.None);
        _repo.Git("checkout", "-q", "-b", "other");
        _repo.Git("branch", "-q", "-D", "main");

        var result = await reconciler.RunOnceAsync(CancellationToken.None);

        Assert.Equal(good, result.AppliedRevision);
        Assert.Contains("branch 'main' does not exist", result.Message, StringComparison.Ordinal);
        Assert.True(await ExistsAsync(api, "a"));
    }

    [Fact]
    public async Task Pass_RevisionTheVerifierRejects_IsNotApplied()
    {
        var good = CommitFleet(ConfigMaps("a"), "good");
        using var api = new KubeApi(fixture.Server.Configuration);
        Assert.Equal(PassOutcome.Applied, (await NewReconciler(api).RunOnceAsync(CancellationToken.None)).Outcome);
        var unsigned = CommitFleet(ConfigMaps("a", "b"), "unsigned");
        var strict = NewReconciler(api, verifier: new RejectUnsigned(good));

        var result = await strict.RunOnceAsync(CancellationToken.None);

        Assert.Equal((PassOutcome.Refused, good, unsigned), (result.Outcome, result.AppliedRevision, result.AttemptedRevision));
        Assert.Contains("no trusted signature", result.Message, StringComparison.Ordinal);
        Assert.False(await ExistsAsync(api, "b"));
    }

    [Fact]
    public async Task Pass_WithAllowedSigners_AppliesOnlyCommitsSignedByAnAllowedKey()
    {
        var keys = Directory.CreateTempSubdirectory("edgeops-keys-").FullName;
        try
        {
            var release = SshSigning.NewKey(keys, "release");
            var attacker = SshSigning.NewKey(keys, "attacker");
            var signers = Path.Combine(keys, "allowed_signers");
            File.WriteAllText(signers, $"test@edgeops.invalid {SshSigning.PublicKey(release)}\n");
            using var api = new KubeApi(fixture.Server.Configuration);
            var reconciler = NewReconciler(api, verifier: SshRevisionVerifier.FromFile(signers));
            _repo.Cluster("edge-1", "tier: far");
            _repo.Workload("app", manifest: ConfigMaps("a"));
            var signed = SshSigning.SignedCommit(_repo, release, "signed release");

            var first = await reconciler.RunOnceAsync(CancellationToken.None);
            Assert.Equal((PassOutcome.Applied, signed), (first.Outcome, first.AppliedRevision));
            Assert.Contains("good signature by test@edgeops.invalid (SHA256:", first.Message, StringComparison.Ordinal);

            _repo.Workload("app", manifest: ConfigMaps("a", "b"));
            var forged = SshSigning.SignedCommit(_repo, attacker, "forged release");
            var refused = await reconciler.RunOnceAsync(CancellationToken.None);

            Assert.Equal((PassOutcome.Refused, signed, forged), (refused.Outcome, refused.AppliedRevision, refused.AttemptedRevision));
            Assert.Contains("not an allowed signer", refused.Message, StringComparison.Ordinal);
            Assert.False(await ExistsAsync(api, "b"));

            _repo.Workload("app", manifest: ConfigMaps("a", "c"));
            var unsigned = _repo.Commit("unsigned release");
            var stillRefused = await reconciler.RunOnceAsync(CancellationToken.None);

            Assert.Equal((PassOutcome.Refused, signed, unsigned), (stillRefused.Outcome, stillRefused.AppliedRevision, stillRefused.AttemptedRevision));
            Assert.Contains("not signed", stillRefused.Message, StringComparison.Ordinal);
            Assert.False(await ExistsAsync(api, "c"));
            Assert.True(await ExistsAsync(api, "a"));
        }
        finally
        {
            Directory.Delete(keys, recursive: true);
        }
    }

    [Fact]
    public async Task Pass_FleetRequiringSignatures_RefusesAPushThatBringsItsOwnKey()
    {
        var keys = Directory.CreateTempSubdirectory("edgeops-keys-").FullName;
        try
        {
            var release = SshSigning.NewKey(keys, "release");
            var attacker = SshSigning.NewKey(keys, "attacker");
            using var api = new KubeApi(fixture.Server.Configuration);
            var reconciler = NewReconciler(api);
            _repo.Write("fleet.yaml", TempFleet.FleetYaml + "spec:\n  trust:\n    allowedSigners: trust/allowed_signers\n");
            _repo.Write("trust/allowed_signers", $"test@edgeops.invalid {SshSigning.PublicKey(release)}\n");
            _repo.Cluster("edge-1", "tier: far");
            _repo.Workload("app", manifest: ConfigMaps("a"));
            var signed = SshSigning.SignedCommit(_repo, release, "signed release");
            var first = await reconciler.RunOnceAsync(CancellationToken.None);
            Assert.Equal((PassOutcome.Applied, signed), (first.Outcome, first.AppliedRevision));
            Assert.Contains("signers trusted on first use", first.Message, StringComparison.Ordinal);

            _repo.Write("trust/allowed_signers", $"test@edgeops.invalid {SshSigning.PublicKey(attacker)}\n");
            _repo.Workload("app", manifest: ConfigMaps("a", "b"));
            var takeover = SshSigning.SignedCommit(_repo, attacker, "replace the signers");
            var refused = await reconciler.RunOnceAsync(CancellationToken.None);

            Assert.Equal((PassOutcome.Refused, signed, takeover), (refused.Outcome, refused.AppliedRevision, refused.AttemptedRevision));
            Assert.Contains("not an allowed signer", refused.Message, StringComparison.Ordinal);
            Assert.False(await ExistsAsync(api, "b"));
            var status = StatusReport.Read(Path.Combine(_state, "status.json"))!;
            Assert.Equal((signed, "Refused"), (status.AppliedRevision, status.Outcome));
            Assert.Contains("not an allowed signer", status.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(keys, recursive: true);
        }
    }

    [Fact]
    public async Task Pass_SigstoreSignedRevisions_WaitForTheBundleNoteAndThenApply()
    {
        const string Release = "https://github.com/pomona/fleet/.github/workflows/release.yml@refs/heads/main";
        using var sigstore = new EdgeOps.Trust.Tests.Sigstore.VirtualSigstore();
        using var api = new KubeApi(fixture.Server.Configuration);
        var reconciler = NewReconciler(api);
        _repo.Write("trust/sigstore-trusted-root.json", sigstore.TrustedRootJson());
        var spec = $"spec:\n  trust:\n    commits:\n      mode: sigstore\n    sigstore:\n      trustedRoot: trust/sigstore-trusted-root.json\n" +
            $"      identities:\n        - issuer: {EdgeOps.Trust.Tests.Sigstore.VirtualSigstore.DefaultIssuer}\n          subject: {Release}\n";
        var first = CommitFleet(ConfigMaps("a"), "signed release", spec);
        SignWithNote(sigstore, first, Release);

        var applied = await reconciler.RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Applied, first), (applied.Outcome, applied.AppliedRevision));
        Assert.Contains($"signed by {Release}", applied.Message, StringComparison.Ordinal);

        var second = CommitFleet(ConfigMaps("a", "b"), "not signed yet");
        var refused = await reconciler.RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Refused, first, second), (refused.Outcome, refused.AppliedRevision, refused.AttemptedRevision));
        Assert.Contains("has no Sigstore bundle in refs/notes/edgeops-signatures", refused.Message, StringComparison.Ordinal);
        Assert.False(await ExistsAsync(api, "b"));

        // CI signs a moment after pushing: the note arrives with the next fetch and the revision goes through.
        SignWithNote(sigstore, second, Release);
        var late = await reconciler.RunOnceAsync(CancellationToken.None);
        Assert.Equal((PassOutcome.Applied, second), (late.Outcome, late.AppliedRevision));
        Assert.True(await ExistsAsync(api, "b"));
    }

    [Fact]
    public async Task Pass_PinnedSigstoreIdentity_OverridesTheFleetsOwnTrust()
    {
        const string Release = "https://github.com/pomona/fleet/.github/workflows/release.yml@refs/heads/main";
        const string Fork = "https://github.com/mallory/fork/.github/workflows/release.yml@refs/heads/main";
        using var sigstore = new EdgeOps.Trust.Tests.Sigstore.VirtualSigstore();
        var root = Path.Combine(_state + "-root.json");
        File.WriteAllText(root, sigstore.TrustedRootJson());
        try
        {
            using var api = new KubeApi(fixture.Server.Configuration);
            var reconciler = NewReconciler(api, verifier: SigstoreRevisionVerifier.Create(root, new EdgeOps.Fleet.Model.SigstoreIdentity(EdgeOps.Trust.Tests.Sigstore.VirtualSigstore.DefaultIssuer, Release, false, default)));

            // The fleet itself asks for nothing; the pin still demands a bundle from the release identity.
            var signed = CommitFleet(ConfigMaps("a"), "signed release");
            SignWithNote(sigstore, signed, Release);
            var applied = await reconciler.RunOnceAsync(CancellationToken.None);
            Assert.Equal((PassOutcome.Applied, signed), (applied.Outcome, applied.AppliedRevision));

            var forked = CommitFleet(ConfigMaps("a", "b"), "signed by a fork");
            SignWithNote(sigstore, forked, Fork);
            var refused = await reconciler.RunOnceAsync(CancellationToken.None);
            Assert.Equal((PassOutcome.Refused, signed), (refused.Outcome, refused.AppliedRevision));
            Assert.Contains("rejected (identity)", refused.Message, StringComparison.Ordinal);
            Assert.False(await ExistsAsync(api, "b"));
        }
        finally
        {
            File.Delete(root);
        }
    }

    private void SignWithNote(EdgeOps.Trust.Tests.Sigstore.VirtualSigstore sigstore, string commit, string identity)
    {
        var bundle = sigstore.SignMessage(System.Text.Encoding.UTF8.GetBytes(commit), new EdgeOps.Trust.Tests.Sigstore.SignOptions { Identity = identity });
        _repo.AddNote(commit, bundle, FleetTrustVerifier.SignatureNotes);
    }

    private sealed class RejectUnsigned(string trusted) : IRevisionVerifier
    {
        public RevisionVerdict Verify(LibGit2Sharp.Repository repository, string revision, string? trustedRevision) =>
            revision == trusted ? RevisionVerdict.Accept : new RevisionVerdict(false, "no trusted signature");
    }

    [Fact]
    public async Task Pass_SecondReconcilerOnTheSameCluster_ChangesNothing()
    {
        CommitFleet(ConfigMaps("a"), "first");
        using var api = new KubeApi(fixture.Server.Configuration);
        Assert.Equal(PassOutcome.Applied, (await NewReconciler(api).RunOnceAsync(CancellationToken.None)).Outcome);
        var otherState = _state + "-other";
        try
        {
            var other = new EdgeOps.Reconciler.Pipeline.Reconciler(new ReconcilerOptions
            {
                Source = new GitSourceOptions { Url = _repo.Root, CacheDirectory = Path.Combine(otherState, "repo.git") },
                Cluster = "edge-1",
                StateDirectory = otherState,
                Namespace = "edgeops-" + _suffix,
                Identity = "gateway-2",
            }, api);
            CommitFleet(ConfigMaps("a", "b"), "second");

            var refused = await other.RunOnceAsync(CancellationToken.None);

            Assert.Equal(PassOutcome.Refused, refused.Outcome);
            Assert.Contains("lease", refused.Message, StringComparison.Ordinal);
            Assert.False(await ExistsAsync(api, "b"));
            Assert.False(File.Exists(Path.Combine(otherState, "journal.json")));
        }
        finally
        {
            if (Directory.Exists(otherState))
            {
                Directory.Delete(otherState, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Pass_StateFolderFull_FailsBeforeChangingTheClusterAndKeepsItsFiles()
    {
        var good = CommitFleet(ConfigMaps("a"), "good");
        var mount = Path.Combine(Path.GetTempPath(), "edgeops-full-" + _suffix);
        Directory.CreateDirectory(mount);
        Assert.Equal(0, Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount));
        try
        {
            using var api = new KubeApi(fixture.Server.Configuration);
            var options = new ReconcilerOptions
            {
                Source = new GitSourceOptions { Url = _repo.Root, CacheDirectory = Path.Combine(_state, "repo.git") },
                Cluster = "edge-1",
                StateDirectory = mount,
                Namespace = "edgeops-" + _suffix,
            };
            Assert.Equal(PassOutcome.Applied, (await new EdgeOps.Reconciler.Pipeline.Reconciler(options, api).RunOnceAsync(CancellationToken.None)).Outcome);
            var stateBefore = File.ReadAllText(Path.Combine(mount, "state.json"));
            CommitFleet(ConfigMaps("a", "b"), "more");
            await using (var filler = new FileStream(Path.Combine(mount, "filler"), FileMode.Create))
            {
                var block = new byte[4096];
                try
                {
                    while (true)
                    {
                        filler.Write(block);
                        filler.Flush(flushToDisk: true);
                    }
                }
                catch (IOException)
                {
                    // the disk is full now
                }
            }

            var full = await new EdgeOps.Reconciler.Pipeline.Reconciler(options, api).RunOnceAsync(CancellationToken.None);

            Assert.Equal(PassOutcome.Failed, full.Outcome);
            Assert.Contains("space", full.Message, StringComparison.OrdinalIgnoreCase);
            var configMaps = (await api.ResolveAsync("v1", "ConfigMap", CancellationToken.None))!;
            var published = await api.GetAsync(configMaps, "edgeops-" + _suffix, "edgeops-status", CancellationToken.None);
            Assert.Equal("Failed", published!["data"]!["outcome"]!.ToString());
            Assert.False(await ExistsAsync(api, "b"), "nothing changes in the cluster without a journal entry");
            Assert.Equal(stateBefore, File.ReadAllText(Path.Combine(mount, "state.json")));
            Assert.Equal(good, EdgeOps.Reconciler.Pipeline.ReconcilerState.Load(mount).AppliedRevision);
        }
        finally
        {
            Run("umount", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    private static int Run(string file, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    [Fact]
    public void StateFolder_Unwritable_OrHeldByAnotherReconciler_IsRefused()
    {
        var file = Path.Combine(Path.GetTempPath(), "edgeops-not-a-folder-" + _suffix);
        File.WriteAllText(file, "x");
        try
        {
            var unwritable = Assert.Throws<ReconcilerException>(() => StateLock.Acquire(Path.Combine(file, "state")));
            Assert.Contains("not writable", unwritable.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }

        using var first = StateLock.Acquire(_state);
        var second = Assert.Throws<ReconcilerException>(() => StateLock.Acquire(_state));
        Assert.Contains("another reconciler", second.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _repo.Dispose();
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }
}

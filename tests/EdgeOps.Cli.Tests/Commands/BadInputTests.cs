using System.Text.RegularExpressions;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

/// <summary>Every kind of bad input reaches the user as located errors and exit 1, never a stack trace.</summary>
public sealed partial class BadInputTests
{
    public static TheoryData<string> BrokenFleets() => RepoPaths.BrokenFleetNames();

    [Theory]
    [MemberData(nameof(BrokenFleets))]
    public async Task Validate_BrokenFleet_ExitsOneWithOnlyLocatedErrors(string name)
    {
        var result = await CliRunner.RunAsync("validate", Path.Combine(RepoPaths.BrokenFleets, name));

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Error);
        var diagnostics = result.Out.Split('\n').Where(l => DiagnosticLine().IsMatch(l) || l.Contains(" error ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(diagnostics);
        Assert.All(diagnostics, l => Assert.Matches(DiagnosticLine(), l));
        Assert.DoesNotContain("Exception", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_SymlinkOutsideTheRepo_IsALocatedError()
    {
        using var fleet = new TempFleet();
        fleet.Symlink("clusters/host.yaml", "/etc/hostname");

        var result = await CliRunner.RunAsync("validate", fleet.Root);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("clusters/host.yaml:1:1: error EO1005: 'clusters/host.yaml' is a symbolic link to an absolute path (/etc/hostname) outside the repository", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_OversizedFile_IsALocatedErrorAndIsNotParsed()
    {
        using var fleet = new TempFleet();
        fleet.Write("clusters/huge.yaml", "values:\n" + string.Concat(Enumerable.Range(0, 400_000).Select(i => $"  k{i}: v\n")));

        var result = await CliRunner.RunAsync("validate", fleet.Root);

        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"clusters/huge\.yaml:1:1: error EO1004: file is [\d,]+ bytes, over the limit of 4,194,304 bytes", result.Out);
    }

    [Fact]
    public async Task Validate_Cancelled_ExitsWith130()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await EdgeOpsCli.RunAsync(["validate", RepoPaths.ExampleFleet], stdout, stderr, cancelled.Token);

        Assert.Equal(130, code);
        Assert.Equal("edgeops: interrupted", stderr.ToString().Trim());
    }

    [Fact]
    public async Task Reconcile_BadAllowedSignersFile_IsALocatedErrorBeforeAnythingRuns()
    {
        using var fleet = new TempFleet();
        fleet.Write("allowed_signers", "ops@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOrv\n# retired\nrelease@example.com valid-after=soon ssh-ed25519 AAAA\n");
        var state = Path.Combine(fleet.Root, "state");

        var result = await CliRunner.RunAsync("reconcile", "--repo", fleet.Root, "--cluster", "edge-1", "--once", "--state-dir", state, "--allowed-signers", Path.Combine(fleet.Root, "allowed_signers"));

        Assert.Equal(2, result.ExitCode);
        var lines = result.Error.Trim().Split('\n').Select(l => l.Replace("edgeops: ", string.Empty, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Matches(DiagnosticLine(), l));
        Assert.Contains("allowed_signers:1:1: error EO7001: ", lines[0], StringComparison.Ordinal);
        Assert.Contains("allowed_signers:3:1: error EO7001: 'soon' is not a time", lines[1], StringComparison.Ordinal);
        Assert.False(Directory.Exists(state));
    }

    [Fact]
    public async Task Reconcile_MissingAllowedSignersFile_IsAnError()
    {
        using var fleet = new TempFleet();

        var result = await CliRunner.RunAsync("reconcile", "--repo", fleet.Root, "--cluster", "edge-1", "--once", "--state-dir", Path.Combine(fleet.Root, "state"), "--allowed-signers", Path.Combine(fleet.Root, "nope"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cannot read the allowed signers", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--certificate-identity", "release@example.com" }, "a pinned Sigstore signer needs --certificate-oidc-issuer and one of --certificate-identity or --certificate-identity-regexp")]
    [InlineData(new[] { "--certificate-identity", "a", "--certificate-identity-regexp", "b", "--certificate-oidc-issuer", "i" }, "a pinned Sigstore signer needs")]
    [InlineData(new[] { "--certificate-identity-regexp", "release-(", "--certificate-oidc-issuer", "i" }, "--certificate-identity-regexp is not a valid regular expression")]
    [InlineData(new[] { "--allowed-signers", "x", "--certificate-identity", "a", "--certificate-oidc-issuer", "i" }, "give either --allowed-signers or the Sigstore identity options, not both")]
    [InlineData(new[] { "--certificate-identity", "a", "--certificate-oidc-issuer", "i", "--trusted-root", "ROOT/missing.json" }, "missing.json: cannot read the trusted root")]
    [InlineData(new[] { "--certificate-identity", "a", "--certificate-oidc-issuer", "i", "--trusted-root", "ROOT/root.json" }, "root.json: trusted root: $.tlogs must be an array")]
    public async Task Reconcile_BadSigstorePin_IsAnErrorBeforeAnythingRuns(string[] pin, string message)
    {
        using var fleet = new TempFleet();
        fleet.Write("root.json", "{\"tlogs\": {}}");
        var state = Path.Combine(fleet.Root, "state");

        var result = await CliRunner.RunAsync(["reconcile", "--repo", fleet.Root, "--cluster", "edge-1", "--once", "--state-dir", state,
            .. pin.Select(a => a.Replace("ROOT", fleet.Root, StringComparison.Ordinal))]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(state));
    }

    [Theory]
    [InlineData(new[] { "--location-precision", "8" }, "--location-precision must be 0 to 7 decimals of a degree (3 is about 100 m); found 8")]
    [InlineData(new[] { "--location-precision", "-1" }, "--location-precision must be 0 to 7 decimals of a degree (3 is about 100 m); found -1")]
    [InlineData(new[] { "--location-source", "gpsd", "--gpsd", "gps.local:gpsd" }, "--gpsd must be HOST or HOST:PORT (gpsd's JSON protocol, default 127.0.0.1:2947); found 'gps.local:gpsd'")]
    [InlineData(new[] { "--location-source", "gpsd", "--gpsd", "127.0.0.1:70000" }, "--gpsd must be HOST or HOST:PORT (gpsd's JSON protocol, default 127.0.0.1:2947); found '127.0.0.1:70000'")]
    [InlineData(new[] { "--location-source", "gpsd", "--gpsd", ":2947" }, "--gpsd must be HOST or HOST:PORT (gpsd's JSON protocol, default 127.0.0.1:2947); found ':2947'")]
    public async Task Reconcile_BadLocationOption_IsAnErrorBeforeAnythingRuns(string[] location, string message)
    {
        using var fleet = new TempFleet();
        var state = Path.Combine(fleet.Root, "state");

        var result = await CliRunner.RunAsync(["reconcile", "--repo", fleet.Root, "--cluster", "edge-1", "--once", "--state-dir", state, .. location]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"edgeops: {message}\n", result.Error.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.False(Directory.Exists(state));
    }

    [Theory]
    [InlineData("Edge_1", "edgeops-system", null, "--cluster 'Edge_1' is not a valid cluster name (a DNS-1123 label: lowercase letters, digits and '-', at most 63)")]
    [InlineData("edge-1", "EdgeOps System", null, "--namespace 'EdgeOps System' is not a valid namespace name (a DNS-1123 label: lowercase letters, digits and '-', at most 63)")]
    [InlineData("edge-1", "edgeops-system", "release..2", "--branch 'release..2' is not a branch name: it holds '..'")]
    [InlineData("edge-1", "edgeops-system", "stable.lock", "--branch 'stable.lock' is not a branch name: it has a part that ends with '.lock' ('stable.lock')")]
    public async Task Reconcile_NamesThatCannotBe_AreUsageErrorsBeforeAnythingRuns(string cluster, string ns, string? branch, string message)
    {
        using var fleet = new TempFleet();
        var state = Path.Combine(fleet.Root, "state");
        string[] branchArgs = branch is null ? [] : ["--branch", branch];

        var result = await CliRunner.RunAsync(["reconcile", "--repo", fleet.Root, "--cluster", cluster, "--namespace", ns, "--once", "--state-dir", state, .. branchArgs]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"edgeops: {message}\n", result.Error.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.False(Directory.Exists(state));
    }

    [Fact]
    public async Task Reconcile_AllowedSignersWithNoSigner_IsAnErrorBeforeAnythingRuns()
    {
        using var fleet = new TempFleet();
        fleet.Write("allowed_signers", "# the keys go here\n");
        var state = Path.Combine(fleet.Root, "state");

        var result = await CliRunner.RunAsync("reconcile", "--repo", fleet.Root, "--cluster", "edge-1", "--once", "--state-dir", state, "--allowed-signers", Path.Combine(fleet.Root, "allowed_signers"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("allowed_signers: holds no signer, so every commit would be refused", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(state));
    }

    [GeneratedRegex(@"^\S+:\d+:\d+: (error|warning) EO\d{4}: .+")]
    private static partial Regex DiagnosticLine();
}

using System.CommandLine;
using System.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Location;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;
using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Cli.Commands;

/// <summary><c>edgeops reconcile</c>: pull, verify, render, enforce, apply as a transaction, report.</summary>
internal static class ReconcileCommand
{
    /// <summary>A pass kept the last good revision because the new one was refused, invalid or rolled back.</summary>
    public const int RevisionRejected = 1;

    /// <summary>The repo could not be reached; the cached revision is enforced (EX_TEMPFAIL).</summary>
    public const int Offline = 75;

    public static Command Create(CliContext context)
    {
        var repo = new Option<string>("--repo") { Description = "The fleet repo: a path, file://, git:// or http(s):// URL", Required = true };
        var cluster = new Option<string>("--cluster") { Description = "This cluster's name in the fleet", Required = true };
        var branch = new Option<string?>("--branch") { Description = "Branch to follow (default: the repository's default branch)" };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Kubeconfig file (default: in-cluster config in a pod, else KUBECONFIG or ~/.kube/config)" };
        var kubeContext = new Option<string?>("--context") { Description = "The kubeconfig context to use (default: its current context)" };
        var stateDir = new Option<string>("--state-dir") { Description = "Cache, journal and status folder", DefaultValueFactory = _ => "/var/lib/edgeops" };
        var ns = new Option<string>("--namespace") { Description = "Namespace for the inventory and status", DefaultValueFactory = _ => "edgeops-system" };
        var once = new Option<bool>("--once") { Description = "Run one pass and exit" };
        var interval = new Option<string>("--interval") { Description = "Time between passes in daemon mode", DefaultValueFactory = _ => "5m" };
        var facts = new Option<string?>("--facts") { Description = "JSON file of live facts (location, discovered devices)" };
        var gitTimeout = new Option<string>("--git-timeout") { Description = "How long a fetch may wait on the Git server without a byte moving before it fails and the cached revision is kept (a half-open connection on a flaky link)", DefaultValueFactory = _ => "1m" };
        var credentials = new Option<string?>("--credentials-file") { Description = "File holding a token or user:password for the repo" };
        var allowRollback = new Option<bool>("--allow-rollback") { Description = "Accept a head that is not a descendant of the applied revision" };
        var healthTimeout = new Option<string?>("--health-timeout") { Description = "Override the fleet's defaults.healthTimeout" };
        var allowedSigners = new Option<string?>("--allowed-signers") { Description = "git allowed_signers file: apply only commits with a good SSH signature by one of these keys (overrides the fleet's trust.allowedSigners)" };
        var identity = new Option<string?>("--certificate-identity") { Description = "Apply only commits whose Sigstore bundle (refs/notes/edgeops-signatures) is signed by this identity (overrides the fleet's trust)" };
        var identityRegex = new Option<string?>("--certificate-identity-regexp") { Description = "The same, as a regular expression over the whole identity" };
        var issuer = new Option<string?>("--certificate-oidc-issuer") { Description = "The OIDC issuer of that identity" };
        var trustedRoot = new Option<string?>("--trusted-root") { Description = "Sigstore trusted_root.json for --certificate-identity (default: the public-good instance)" };
        var leaseDuration = new Option<string?>("--lease-duration") { Description = "How long the cluster lease lasts unrenewed: another agent takes over that long after this one dies (default: twice --interval)" };
        var slotBackend = new Option<string>("--slot-backend") { Description = "How this agent installs UpgradePlans: none (plans are reported blocked), rauc (the RAUC service on the system D-Bus) or command (--slot-command)", DefaultValueFactory = _ => "none" };
        slotBackend.AcceptOnlyFromAmong("none", "rauc", "command");
        var slotCommand = new Option<string?>("--slot-command") { Description = "The executable of the command slot backend (docs/upgrades.md has its contract)" };
        var slotComponent = new Option<string>("--slot-component") { Description = "What the slots hold: os or firmware", DefaultValueFactory = _ => "os" };
        slotComponent.AcceptOnlyFromAmong("os", "firmware");
        var dbusAddress = new Option<string?>("--dbus-address") { Description = "The system D-Bus RAUC listens on (default: DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket)" };
        var rebootCommand = new Option<string?>("--reboot-command") { Description = "Command that asks the host to reboot, for the rauc backend (default: systemd-logind's Reboot over D-Bus)" };
        var upgradePoll = new Option<string>("--upgrade-poll-interval") { Description = "How often a trial boot looks at its health checks", DefaultValueFactory = _ => "5s" };
        var locationSource = new Option<string>("--location-source") { Description = "Where the live position comes from for placement by location: none (the Cluster's static location), facts (--facts), node (the node's edgeops.io/location annotation) or gpsd", DefaultValueFactory = _ => "none" };
        locationSource.AcceptOnlyFromAmong("none", "facts", "node", "gpsd");
        var gpsd = new Option<string>("--gpsd") { Description = "gpsd's address (JSON protocol)", DefaultValueFactory = _ => "127.0.0.1:2947" };
        var locationPrecision = new Option<int>("--location-precision") { Description = "Decimals of latitude/longitude in status reports, 0 to 7 (3 is about 100 m)", DefaultValueFactory = _ => 3 };
        var reportKey = new Option<string?>("--report-key") { Description = "The cluster's OpenSSH Ed25519 private key (unencrypted): every status report is signed with it into status.json.sig (its public half goes in the Cluster's spec.reportKey)" };
        var collector = new Option<string?>("--collector") { Description = "The fleet's collector (http(s)://host:port): signed status reports go there (needs --report-key), rollout gates come from there" };
        var heartbeat = new Option<string>("--report-heartbeat") { Description = "A report is sent when it changes and at least this often", DefaultValueFactory = _ => "5m" };
        var command = new Command("reconcile", "Reconcile this cluster from the fleet repo: one pass, or as a daemon")
        {
            repo, cluster, branch, gitTimeout, kubeconfig, kubeContext, stateDir, ns, once, interval, facts, credentials, allowRollback, healthTimeout, allowedSigners,
            identity, identityRegex, issuer, trustedRoot, leaseDuration, slotBackend, slotCommand, slotComponent, dbusAddress, rebootCommand, upgradePoll,
            locationSource, gpsd, locationPrecision, reportKey, collector, heartbeat,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var state = Path.GetFullPath(parse.GetValue(stateDir)!);
            var every = ParseDuration(parse.GetValue(interval)!);
            var options = new ReconcilerOptions
            {
                Source = new GitSourceOptions
                {
                    Url = parse.GetValue(repo)!,
                    Branch = BranchName(parse.GetValue(branch)),
                    CacheDirectory = Path.Combine(state, "repo.git"),
                    CredentialsFile = parse.GetValue(credentials),
                    Timeout = ParseDuration(parse.GetValue(gitTimeout)!),
                },
                Cluster = ClusterName(parse.GetValue(cluster)!),
                StateDirectory = state,
                Namespace = NamespaceName(parse.GetValue(ns)!),
                FactsFile = parse.GetValue(facts),
                AllowRollback = parse.GetValue(allowRollback),
                HealthTimeout = parse.GetValue(healthTimeout) is { } h ? ParseDuration(h) : null,
                Checkpoint = CrashPoint(context.Error),
                Verifier = Verifier(parse.GetValue(allowedSigners), parse.GetValue(identity), parse.GetValue(identityRegex), parse.GetValue(issuer), parse.GetValue(trustedRoot)),
                LeaseDuration = parse.GetValue(leaseDuration) is { } d ? ParseDuration(d) : every * 2,
                ReportSigner = ReportSigner(parse.GetValue(reportKey)),
                Collector = Collector(parse.GetValue(collector), parse.GetValue(reportKey), ParseDuration(parse.GetValue(heartbeat)!)),
                Location = new LocationOptions
                {
                    Source = Enum.Parse<LocationSourceKind>(parse.GetValue(locationSource)!, ignoreCase: true),
                    Gpsd = GpsdAddress(parse.GetValue(gpsd)!),
                    Precision = LocationPrecision(parse.GetValue(locationPrecision)),
                },
                Upgrades = new UpgradeOptions
                {
                    Backend = SlotBackend(parse.GetValue(slotBackend)!, parse.GetValue(slotCommand), parse.GetValue(dbusAddress), parse.GetValue(rebootCommand)),
                    Component = Enum.Parse<UpgradeComponent>(parse.GetValue(slotComponent)!, ignoreCase: true),
                    PollInterval = ParseDuration(parse.GetValue(upgradePoll)!),
                },
            };
            var metricsPrefix = MetricsPrefix();
            var configuration = KubeConfig.Resolve(parse.GetValue(kubeconfig), parse.GetValue(kubeContext));
            if (parse.GetValue(once))
            {
                return await RunOnceAsync(context, options, configuration, cancellationToken).ConfigureAwait(false);
            }

            return await Reconciler.Hosting.ReconcilerHost.RunAsync(options, configuration, every, metricsPrefix, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunOnceAsync(CliContext context, ReconcilerOptions options, KubeConnection configuration, CancellationToken cancellationToken)
    {
        using var held = StateLock.Acquire(options.StateDirectory);
        using var api = new KubeApi(configuration);
        var reconciler = new Reconciler.Pipeline.Reconciler(options, api);
        PassResult result;
        try
        {
            result = await reconciler.RunOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // A single pass is a clean stop too: the next agent, whoever it is, need not wait for the lease.
            using var release = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await reconciler.ReleaseAsync(release.Token).ConfigureAwait(false);
        }

        foreach (var failed in result.Report.FailedObjects)
        {
            await context.Error.WriteLineAsync($"{failed.Location ?? failed.Object}: {failed.Object}: {failed.Reason}").ConfigureAwait(false);
        }

        await context.Out.WriteLineAsync($"{result.Outcome.ToString().ToLowerInvariant()}: {result.Message}").ConfigureAwait(false);
        return result.Outcome switch
        {
            PassOutcome.Applied or PassOutcome.Unchanged or PassOutcome.Waiting => ExitCodes.Ok,
            PassOutcome.Offline => Offline,
            _ => RevisionRejected,
        };
    }

    private static CollectorOptions? Collector(string? url, string? reportKey, TimeSpan heartbeat)
    {
        if (url is null)
        {
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new FleetSourceException($"--collector must be an http(s) URL; found '{url}'");
        }

        if (reportKey is null)
        {
            throw new FleetSourceException("--collector needs --report-key: the collector accepts only reports signed by the key the cluster's spec.reportKey lists");
        }

        return new CollectorOptions { Url = uri, Heartbeat = heartbeat };
    }

    private static EdgeOps.Trust.Ssh.SshSigner? ReportSigner(string? path)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            return EdgeOps.Trust.Ssh.SshSigner.FromOpenSsh(File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FleetSourceException($"--report-key {path}: {ex.Message}");
        }
        catch (FormatException ex)
        {
            throw new FleetSourceException($"--report-key {path}: {ex.Message}");
        }
    }

    private static ISlotBackend? SlotBackend(string backend, string? command, string? dbusAddress, string? rebootCommand)
    {
        if (command is not null && backend != "command")
        {
            throw new FleetSourceException("--slot-command needs --slot-backend command");
        }

        return backend switch
        {
            "rauc" => new RaucSlotBackend(dbusAddress, rebootCommand?.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
            "command" when command is null => throw new FleetSourceException("--slot-backend command needs --slot-command PATH"),
            "command" when !File.Exists(command) => throw new FleetSourceException($"--slot-command {command}: no such file"),
            "command" => new CommandSlotBackend(Path.GetFullPath(command!)),
            _ => null,
        };
    }

    /// <summary>The verify step: pinned SSH signers, a pinned Sigstore identity, or the fleet's own trust settings.</summary>
    private static IRevisionVerifier Verifier(string? signersFile, string? identity, string? identityRegex, string? issuer, string? trustedRoot)
    {
        var sigstore = identity is not null || identityRegex is not null || issuer is not null || trustedRoot is not null;
        if (signersFile is not null && sigstore)
        {
            throw new FleetSourceException("give either --allowed-signers or the Sigstore identity options, not both");
        }

        if (signersFile is not null)
        {
            return LoadSigners(signersFile);
        }

        if (!sigstore)
        {
            return FleetTrustVerifier.Instance;
        }

        if ((identity is null) == (identityRegex is null) || issuer is null)
        {
            throw new FleetSourceException("a pinned Sigstore signer needs --certificate-oidc-issuer and one of --certificate-identity or --certificate-identity-regexp");
        }

        if (identityRegex is not null && !IsRegex(identityRegex, out var why))
        {
            throw new FleetSourceException($"--certificate-identity-regexp is not a valid regular expression: {why}");
        }

        try
        {
            return SigstoreRevisionVerifier.Create(trustedRoot, new SigstoreIdentity(issuer, identity ?? identityRegex!, identityRegex is not null, default));
        }
        catch (IOException ex)
        {
            throw new FleetSourceException($"{trustedRoot}: cannot read the trusted root: {ex.Message}", ex);
        }
        catch (ReconcilerException ex)
        {
            throw new FleetSourceException(ex.Message, ex);
        }
    }

    private static bool IsRegex(string pattern, out string? why)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(100));
            why = null;
            return true;
        }
        catch (ArgumentException ex)
        {
            why = ex.Message;
            return false;
        }
    }

    private static SshRevisionVerifier LoadSigners(string path)
    {
        try
        {
            return SshRevisionVerifier.FromFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FleetSourceException($"{path}: cannot read the allowed signers: {ex.Message}", ex);
        }
        catch (ReconcilerException ex)
        {
            throw new FleetSourceException(ex.Message, ex);
        }
    }

    /// <summary>gpsd's HOST[:PORT]; a port that is not one is an error, not gpsd's default port in disguise.</summary>
    private static string GpsdAddress(string address)
    {
        var colon = address.LastIndexOf(':');
        var host = colon >= 0 ? address[..colon] : address;
        var valid = host.Length > 0 && !host.Any(char.IsWhiteSpace)
            && (colon < 0 || (int.TryParse(address.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535));
        return valid ? address : throw new FleetSourceException($"--gpsd must be HOST or HOST:PORT (gpsd's JSON protocol, default 127.0.0.1:2947); found '{address}'");
    }

    /// <summary>Where the daemon serves /healthz, /readyz and /metrics: EDGEOPS_METRICS_PREFIX, checked before anything runs.</summary>
    private static string MetricsPrefix()
    {
        var prefix = Environment.GetEnvironmentVariable("EDGEOPS_METRICS_PREFIX") ?? Reconciler.Hosting.HealthEndpoint.DefaultPrefix;
        return Reconciler.Hosting.HealthEndpoint.Check(prefix) is { } problem ? throw new FleetSourceException(problem) : prefix;
    }

    /// <summary>Decimals of a degree kept in reports: 0 (about 111 km) to 7 (about 1 cm), as the option's help says.</summary>
    private static int LocationPrecision(int decimals) =>
        decimals is >= 0 and <= 7
            ? decimals
            : throw new FleetSourceException($"--location-precision must be 0 to 7 decimals of a degree (3 is about 100 m); found {decimals}");

    /// <summary>--cluster: a name a Cluster of the fleet can have (a DNS-1123 label).</summary>
    internal static string ClusterName(string name) =>
        Names.IsDnsLabel(name) ? name : throw new FleetSourceException($"--cluster '{name}' is not a valid cluster name (a DNS-1123 label: lowercase letters, digits and '-', at most 63)");

    /// <summary>--namespace: a Kubernetes namespace name (a DNS-1123 label), checked before it reaches a URL or a manifest.</summary>
    internal static string NamespaceName(string name) =>
        Names.IsDnsLabel(name) ? name : throw new FleetSourceException($"--namespace '{name}' is not a valid namespace name (a DNS-1123 label: lowercase letters, digits and '-', at most 63)");

    /// <summary>--branch: null follows the default branch; anything else must be a name git accepts.</summary>
    internal static string? BranchName(string? name) =>
        name is null || BranchNames.Check(name) is not { } why ? name : throw new FleetSourceException($"--branch '{name}' is not a branch name: it {why}");

    internal static TimeSpan ParseDuration(string text) =>
        DurationParser.TryParse(text, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new FleetSourceException($"'{text}' is not a duration (such as 30s, 5m, 1h)");

    /// <summary>The second, explicit switch that arms EDGEOPS_CRASH_AT; without it the variable is ignored.</summary>
    public const string CrashTestingSwitch = "EDGEOPS_CRASH_TESTING";

    /// <summary>
    /// EDGEOPS_CRASH_AT names a step (such as journal:applying) at which the process kills itself with
    /// SIGKILL — how the crash tests cut power at a precise point of a transaction. It takes effect only
    /// with EDGEOPS_CRASH_TESTING=1 as well, so a stray variable in an agent's environment cannot kill it,
    /// and it says so loudly on stderr either way.
    /// </summary>
    private static Action<string>? CrashPoint(TextWriter error)
    {
        var at = Environment.GetEnvironmentVariable("EDGEOPS_CRASH_AT");
        if (string.IsNullOrEmpty(at))
        {
            return null;
        }

        if (Environment.GetEnvironmentVariable(CrashTestingSwitch) != "1")
        {
            error.WriteLine($"edgeops: warning: EDGEOPS_CRASH_AT is set but ignored: crash injection is a test facility and needs {CrashTestingSwitch}=1 as well");
            return null;
        }

        error.WriteLine($"edgeops: WARNING: crash injection is ON: this process kills itself at '{at}' (EDGEOPS_CRASH_AT); never set this on a real agent");

        var remaining = int.TryParse(Environment.GetEnvironmentVariable("EDGEOPS_CRASH_SKIP"), out var skip) ? skip : 0;
        return point =>
        {
            if (point == at || (at.EndsWith('*') && point.StartsWith(at[..^1], StringComparison.Ordinal)))
            {
                if (remaining-- <= 0)
                {
                    Process.GetCurrentProcess().Kill();
                }
            }
        };
    }
}

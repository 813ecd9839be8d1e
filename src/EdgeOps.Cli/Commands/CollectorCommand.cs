#if EDGEOPS_COLLECTOR
using System.CommandLine;
using System.Net;
using EdgeOps.Collector;
using EdgeOps.Collector.Storage;
using EdgeOps.Fleet.Sources;
using EdgeOps.Reconciler.Source;

namespace EdgeOps.Cli.Commands;

/// <summary>
/// <c>edgeops collector --fleet REPO_URL [--db sqlite:PATH | --db postgres://…] [--listen 127.0.0.1:8080]</c>: the
/// fleet's status service. It follows the fleet repo (the registry of report keys), accepts signed reports,
/// computes rollout gates and serves the fleet page. Not part of the NativeAOT agent: it runs from the
/// framework-dependent tool or build.
/// </summary>
internal static class CollectorCommand
{
    public static Command Create(CliContext context)
    {
        var fleet = new Option<string>("--fleet") { Description = "The fleet repo (path or git URL): which clusters exist and which key each reports with", Required = true };
        var branch = new Option<string?>("--branch") { Description = "The branch to follow (default: the remote's default branch)" };
        var db = new Option<string>("--db") { Description = "sqlite:PATH (embedded) or postgres://user[:password]@host[:port]/database", DefaultValueFactory = _ => "sqlite:edgeops-collector.db" };
        var listen = new Option<string>("--listen") { Description = "Address and port to listen on", DefaultValueFactory = _ => "127.0.0.1:8080" };
        var stateDir = new Option<string>("--state-dir") { Description = "Where the collector keeps its clone of the fleet repo", DefaultValueFactory = _ => ".edgeops-collector" };
        var credentials = new Option<string?>("--git-credentials") { Description = "A file holding a token or user:password for an http(s) fleet repo" };
        var staleAfter = new Option<string>("--stale-after") { Description = "A cluster silent this long is stale (and not waited for by its wave)", DefaultValueFactory = _ => "15m" };
        var refresh = new Option<string>("--refresh") { Description = "How often the fleet repo is fetched", DefaultValueFactory = _ => "1m" };
        var adminToken = new Option<string?>("--admin-token-file") { Description = "A file holding the bearer token that halt and resume need from other hosts (without it: loopback only)" };
        var command = new Command("collector", "Run the fleet's collector: signed status reports in; cluster list, rollout gates and the fleet page out")
        {
            fleet, branch, db, listen, stateDir, credentials, staleAfter, refresh, adminToken,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!IPEndPoint.TryParse(parse.GetValue(listen)!, out var endpoint) || endpoint.Port == 0 && !parse.GetValue(listen)!.EndsWith(":0", StringComparison.Ordinal))
            {
                throw new FleetSourceException($"--listen must be ADDRESS:PORT, e.g. 127.0.0.1:8080; found '{parse.GetValue(listen)}'");
            }

            var stale = Duration("--stale-after", parse.GetValue(staleAfter)!);
            var every = Duration("--refresh", parse.GetValue(refresh)!);
            string? token = null;
            if (parse.GetValue(adminToken) is { } tokenFile)
            {
                token = File.ReadAllText(tokenFile).Trim();
                if (token.Length < 16)
                {
                    throw new FleetSourceException($"--admin-token-file {tokenFile}: the token must be at least 16 characters");
                }
            }

            ReportStore store;
            try
            {
                store = ReportStore.Open(parse.GetValue(db)!);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                throw new FleetSourceException(ex.Message);
            }

            await using (store.ConfigureAwait(false))
            {
                int version;
                try
                {
                    version = await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (System.Data.Common.DbException ex)
                {
                    throw new FleetSourceException($"database {store.Display}: {ex.Message}");
                }
                catch (Collector.Storage.SchemaTooNewException ex)
                {
                    throw new FleetSourceException($"database {store.Display}: {ex.Message}");
                }

                var state = Path.GetFullPath(parse.GetValue(stateDir)!);
                Directory.CreateDirectory(state);
                var registry = new FleetRegistry(new GitSourceOptions
                {
                    Url = parse.GetValue(fleet)!,
                    Branch = parse.GetValue(branch),
                    CacheDirectory = Path.Combine(state, "fleet.git"),
                    CredentialsFile = parse.GetValue(credentials),
                });
                FleetSnapshot snapshot;
                try
                {
                    snapshot = registry.Refresh();
                }
                catch (Exception ex) when (ex is InvalidOperationException or LibGit2Sharp.LibGit2SharpException or FleetSourceException)
                {
                    throw new FleetSourceException($"fleet repo {registry.DisplayUrl}: {ex.Message}");
                }

                if (registry.Rejected is { } rejected)
                {
                    await context.Error.WriteLineAsync($"edgeops collector: head {rejected.Revision[..12]} has errors ({rejected.Problem}); following {snapshot.Revision[..12]}, the newest revision before it that loads").ConfigureAwait(false);
                }

                var service = new CollectorService(new CollectorSettings { StaleAfter = stale, AdminToken = token }, store, registry);
                await using (service.ConfigureAwait(false))
                {
                    var app = CollectorHost.Build(service, endpoint);
                    await using (app.ConfigureAwait(false))
                    {
                        await app.StartAsync(cancellationToken).ConfigureAwait(false);
                        await context.Out.WriteLineAsync($"collector listening on {CollectorHost.Address(app)}: fleet '{snapshot.FleetName}' at {snapshot.Revision[..12]} ({snapshot.ClusterList.Count} clusters), database {store.Display} (schema v{version})").ConfigureAwait(false);
                        await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                        // Ctrl+C reaches the command's token; SIGTERM (systemd, Kubernetes) the host's lifetime.
                        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, app.Lifetime.ApplicationStopping);
                        try
                        {
                            while (!stopping.IsCancellationRequested)
                            {
                                await Task.Delay(every, stopping.Token).ConfigureAwait(false);
                                try
                                {
                                    registry.Refresh();
                                }
                                catch (Exception ex) when (ex is InvalidOperationException or LibGit2Sharp.LibGit2SharpException or FleetSourceException)
                                {
                                    await context.Error.WriteLineAsync($"edgeops collector: fleet repo refresh failed, keeping {registry.Current.Revision[..12]}: {ex.Message}").ConfigureAwait(false);
                                }
                            }
                        }
                        catch (OperationCanceledException)
                        {
                            // stopping
                        }

                        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static TimeSpan Duration(string option, string text) =>
        EdgeOps.Fleet.Model.DurationParser.TryParse(text, out var value) && value > TimeSpan.Zero ? value : throw new FleetSourceException($"{option}: '{text}' is not a duration");
}
#endif

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Reconciler.Status;

namespace EdgeOps.Cli.Commands;

/// <summary>
/// <c>edgeops status DIR</c>: the fleet's state from the status reports the agents wrote (one
/// status.json per cluster, anywhere under DIR): revision, health and how stale each report is. With
/// --fleet, every cluster of the fleet is listed, those that never reported too.
/// </summary>
internal static class StatusCommand
{
    public static Command Create(CliContext context)
    {
        var dir = new Argument<string?>("dir") { Description = "A folder of status reports (status.json files, one per cluster); not with --collector", Arity = ArgumentArity.ZeroOrOne };
        var collector = new Option<string?>("--collector") { Description = "Ask the fleet's collector instead of reading a folder: every cluster of the fleet with its last signed report" };
        var wave = new Option<string?>("--wave") { Description = "With --collector: only clusters of this rollout wave" };
        var outcome = new Option<string?>("--outcome") { Description = "With --collector: only clusters whose last pass had this outcome (Applied, Waiting, Failed …, or Silent)" };
        var stale = new Option<string>("--stale-after") { Description = "Reports older than this are flagged stale", DefaultValueFactory = _ => "30m" };
        var fleet = new Option<string?>("--fleet") { Description = "The fleet repo (a folder): list every cluster it declares, those that never reported too" };
        var selector = new Option<string?>("--selector", "-l") { Description = "Only clusters whose labels match (a folder needs --fleet for them), e.g. 'tier=far,country in (ES,IT)'" };
        var notReady = new Option<bool>("--not-ready") { Description = "Only clusters that are not ready, stale or never reported" };
        var output = new Option<string>("--output", "-o") { Description = "text or json", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var command = new Command("status", "Show the fleet's state from the agents' status reports (a folder of them, or the collector)") { dir, stale, fleet, selector, notReady, output, collector, wave, outcome };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(collector) is { } url)
            {
                return await FromCollectorAsync(context, url, parse.GetValue(selector), parse.GetValue(outcome), parse.GetValue(wave), parse.GetValue(notReady), parse.GetValue(output)!, cancellationToken).ConfigureAwait(false);
            }

            var folder = parse.GetValue(dir) ?? throw new FleetSourceException("status needs a folder of status reports, or --collector URL");
            return Run(context, new Request(folder, parse.GetValue(stale)!, parse.GetValue(fleet), parse.GetValue(selector), parse.GetValue(notReady), parse.GetValue(output)!), TimeProvider.System, cancellationToken);
        });
        return command;
    }

    /// <summary>The collector's view: GET /v1/clusters with the same filters, as a table or JSON; exit 1 when any cluster needs attention.</summary>
    private static async Task<int> FromCollectorAsync(CliContext context, string url, string? selector, string? outcome, string? wave, bool notReady, string output, CancellationToken cancellationToken)
    {
        using var client = RolloutCommand.Client(url, null);
        var query = string.Join('&', new[] { ("selector", selector), ("outcome", outcome), ("wave", wave) }
            .Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
        var rows = await client.GetClustersAsync(query, cancellationToken).ConfigureAwait(false);
        static bool Attention(ClusterRow r) => r.Stale || r.Report is not { Healthy: true };
        if (notReady)
        {
            rows = [.. rows.Where(Attention)];
        }

        var attention = rows.Count(Attention);
        if (output == "json")
        {
            await context.Out.WriteLineAsync(JsonSerializer.Serialize(rows, CollectorJson.Default.ListClusterRow)).ConfigureAwait(false);
            return attention == 0 ? ExitCodes.Ok : ExitCodes.Invalid;
        }

        var table = rows.Select(r => new[]
        {
            r.Cluster,
            r.Wave,
            r.Report?.Applied is { } applied ? applied[..Math.Min(12, applied.Length)] : "-",
            r.Report?.Outcome.ToLowerInvariant() ?? "silent",
            r.Silent ? "never" : (r.Stale ? "STALE " : string.Empty) + r.ReceivedAt!.Value.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            r.Report?.Rollout is { Verdict: "Wait" or "Halted", Reason: { } reason } position ? $"{position.Verdict.ToLowerInvariant()}: {reason}" : r.Report?.Message ?? "no report",
        }).ToList();
        string[] header = ["CLUSTER", "WAVE", "REVISION", "OUTCOME", "REPORTED", "DETAIL"];
        var widths = header.Select((h, i) => Math.Max(h.Length, table.Count == 0 ? 0 : table.Max(r => r[i].Length))).ToArray();
        await context.Out.WriteLineAsync(string.Join("  ", header.Select((h, i) => i == header.Length - 1 ? h : h.PadRight(widths[i])))).ConfigureAwait(false);
        foreach (var row in table)
        {
            await context.Out.WriteLineAsync(string.Join("  ", row.Select((c, i) => i == row.Length - 1 ? c : c.PadRight(widths[i])))).ConfigureAwait(false);
        }

        await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{rows.Count} clusters, {rows.Count - attention} healthy and reporting, {attention} need attention")).ConfigureAwait(false);
        return attention == 0 ? ExitCodes.Ok : ExitCodes.Invalid;
    }

    internal sealed record Request(string Directory, string StaleAfter, string? Fleet = null, string? Selector = null, bool NotReady = false, string Output = "text");

    private sealed record Row(string Cluster, StatusReport? Report, bool Ready, bool Stale, TimeSpan? Age, string State);

    internal static int Run(CliContext context, Request request, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(request.Directory))
        {
            throw new FleetSourceException($"status folder '{request.Directory}' does not exist");
        }

        if (!DurationParser.TryParse(request.StaleAfter, out var threshold))
        {
            throw new FleetSourceException($"'{request.StaleAfter}' is not a duration");
        }

        LabelSelector? selector = null;
        if (request.Selector is { } text)
        {
            if (request.Fleet is null)
            {
                throw new FleetSourceException("--selector matches the labels the fleet gives clusters: add --fleet PATH");
            }

            if (!SelectorParser.TryParse(text, out var parsed, out var error))
            {
                throw new FleetSourceException(error!);
            }

            selector = parsed;
        }

        // Every report, by cluster; a file that claims to be a report but cannot be read is an error, never skipped.
        var reports = new SortedDictionary<string, StatusReport>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(request.Directory, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var report = StatusReport.Read(file);
            if (report is not null && (!reports.TryGetValue(report.Cluster, out var seen) || seen.Time < report.Time))
            {
                reports[report.Cluster] = report;
            }
        }

        var names = new SortedSet<string>(reports.Keys, StringComparer.Ordinal);
        if (request.Fleet is { } fleetPath)
        {
            using var source = FleetSources.Open(fleetPath, null);
            var loaded = new FleetValidator().Validate(source, cancellationToken: cancellationToken);
            var clusters = loaded.Clusters.Where(c => selector is null || selector.Matches(c.Labels)).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            names = selector is null ? new SortedSet<string>(names.Concat(clusters), StringComparer.Ordinal) : new SortedSet<string>(clusters, StringComparer.Ordinal);
        }

        var now = clock.GetUtcNow();
        var rows = names.Select(name =>
        {
            if (!reports.TryGetValue(name, out var report))
            {
                return new Row(name, null, false, false, null, "never reported");
            }

            var age = now - report.Time;
            var ready = report.Conditions.FirstOrDefault(c => c.Type == "Ready")?.Status == "True";
            return new Row(name, report, ready, age > threshold, age, ready ? "ready" : "not ready");
        }).Where(r => !request.NotReady || !r.Ready || r.Stale).ToList();
        var attention = rows.Count(r => !r.Ready || r.Stale);

        if (request.Output == "json")
        {
            var json = new JsonObject
            {
                ["clusters"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject
                {
                    ["cluster"] = r.Cluster,
                    ["state"] = r.State,
                    ["ready"] = r.Ready,
                    ["stale"] = r.Stale,
                    ["reported"] = r.Report?.Time.ToString("O", CultureInfo.InvariantCulture),
                    ["appliedRevision"] = r.Report?.AppliedRevision,
                    ["lastAttemptedRevision"] = r.Report?.LastAttemptedRevision,
                    ["outcome"] = r.Report?.Outcome,
                    ["message"] = r.Report?.Message,
                    ["offlineSince"] = r.Report?.OfflineSince?.ToString("O", CultureInfo.InvariantCulture),
                    ["failedObjects"] = r.Report?.FailedObjects.Length ?? 0,
                    ["upgrade"] = r.Report?.Upgrade is { } u ? new JsonObject
                    {
                        ["plan"] = u.Plan,
                        ["component"] = u.Component,
                        ["phase"] = u.Phase,
                        ["fromVersion"] = u.FromVersion,
                        ["toVersion"] = u.ToVersion,
                        ["runningVersion"] = u.RunningVersion,
                        ["bootedSlot"] = u.BootedSlot,
                        ["targetSlot"] = u.TargetSlot,
                        ["reason"] = u.Reason,
                    } : null,
                })]),
                ["total"] = rows.Count,
                ["needAttention"] = attention,
            };
            context.Out.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return attention == 0 ? ExitCodes.Ok : ExitCodes.Invalid;
        }

        var table = rows.Select(r => new[]
        {
            r.Cluster,
            r.Report?.AppliedRevision is { } applied ? applied[..Math.Min(12, applied.Length)] : "-",
            r.Report?.Outcome.ToLowerInvariant() ?? "-",
            r.State,
            r.Age is { } age ? (r.Stale ? "STALE " : string.Empty) + Age(age) : "-",
            r.Report?.Upgrade is { } upgrade ? $"{upgrade.Phase.ToLowerInvariant()} {upgrade.ToVersion}" : "-",
            r.Report is null ? "no status report" : r.Report.OfflineSince is { } since ? "offline since " + since.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : r.Report.Message,
        }).ToList();
        string[] header = ["CLUSTER", "REVISION", "OUTCOME", "HEALTH", "REPORTED", "UPGRADE", "DETAIL"];
        var widths = header.Select((h, i) => Math.Max(h.Length, table.Count == 0 ? 0 : table.Max(r => r[i].Length))).ToArray();
        context.Out.WriteLine(string.Join("  ", header.Select((h, i) => i == header.Length - 1 ? h : h.PadRight(widths[i]))));
        foreach (var row in table)
        {
            context.Out.WriteLine(string.Join("  ", row.Select((c, i) => i == row.Length - 1 ? c : c.PadRight(widths[i]))));
        }

        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows.Count} clusters, {rows.Count - attention} ready and current, {attention} need attention"));
        return attention == 0 ? ExitCodes.Ok : ExitCodes.Invalid;
    }

    private static string Age(TimeSpan age) => age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds}s ago"
        : age.TotalHours < 1 ? $"{(int)age.TotalMinutes}m ago"
        : age.TotalDays < 1 ? $"{(int)age.TotalHours}h ago"
        : $"{(int)age.TotalDays}d ago";
}

using System.CommandLine;
using System.Globalization;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;
using EdgeOps.Reconciler.Status;

namespace EdgeOps.Cli.Commands;

/// <summary>
/// <c>edgeops status DIR</c>: the fleet's state from the status reports the reconcilers wrote (one
/// status.json per cluster, anywhere under DIR): revision, health and how stale each report is.
/// </summary>
internal static class StatusCommand
{
    public static Command Create(CliContext context)
    {
        var dir = new Argument<string>("dir") { Description = "A folder of status reports (status.json files, one per cluster)" };
        var stale = new Option<string>("--stale-after") { Description = "Reports older than this are flagged stale", DefaultValueFactory = _ => "30m" };
        var command = new Command("status", "Show the fleet's state from the reconcilers' status reports") { dir, stale };
        command.SetAction((parse, _) => Task.FromResult(Run(context, parse.GetValue(dir)!, parse.GetValue(stale)!, TimeProvider.System)));
        return command;
    }

    internal static int Run(CliContext context, string directory, string staleAfter, TimeProvider clock)
    {
        if (!Directory.Exists(directory))
        {
            throw new FleetSourceException($"status folder '{directory}' does not exist");
        }

        if (!DurationParser.TryParse(staleAfter, out var threshold))
        {
            throw new FleetSourceException($"'{staleAfter}' is not a duration");
        }

        var now = clock.GetUtcNow();
        var rows = new List<string[]>();
        var unhealthy = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var report = StatusReport.Read(file);
            if (report is null || report.SchemaName != StatusReport.Schema)
            {
                continue;
            }

            var age = now - report.Time;
            var ready = report.Conditions.FirstOrDefault(c => c.Type == "Ready")?.Status == "True";
            var isStale = age > threshold;
            if (!ready || isStale)
            {
                unhealthy++;
            }

            rows.Add(
            [
                report.Cluster,
                report.AppliedRevision is { } r ? r[..Math.Min(12, r.Length)] : "-",
                report.Outcome.ToLowerInvariant(),
                ready ? "ready" : "not ready",
                (isStale ? "STALE " : string.Empty) + Age(age),
                report.OfflineSince is { } since ? "offline since " + since.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : report.Message,
            ]);
        }

        string[] header = ["CLUSTER", "REVISION", "OUTCOME", "HEALTH", "REPORTED", "DETAIL"];
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        context.Out.WriteLine(string.Join("  ", header.Select((h, i) => i == header.Length - 1 ? h : h.PadRight(widths[i]))));
        foreach (var row in rows)
        {
            context.Out.WriteLine(string.Join("  ", row.Select((c, i) => i == row.Length - 1 ? c : c.PadRight(widths[i]))));
        }

        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows.Count} clusters, {rows.Count - unhealthy} ready and current, {unhealthy} need attention"));
        return unhealthy == 0 ? ExitCodes.Ok : ExitCodes.Invalid;
    }

    private static string Age(TimeSpan age) => age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds}s ago"
        : age.TotalHours < 1 ? $"{(int)age.TotalMinutes}m ago"
        : age.TotalDays < 1 ? $"{(int)age.TotalHours}h ago"
        : $"{(int)age.TotalDays}d ago";
}

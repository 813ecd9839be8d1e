using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EdgeOps.Cli.Checks;
using EdgeOps.Cli.Output;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Policy.Checks;

namespace EdgeOps.Cli.Commands;

/// <summary><c>edgeops validate</c>: load, check and render every cluster; report every problem.</summary>
internal static class ValidateCommand
{
    private const int ProgressThreshold = 200;
    private const int MaxSummaryRows = 100;

    public static Command Create(CliContext context)
    {
        var path = CommonOptions.FleetPath();
        var revision = CommonOptions.Revision();
        var clusters = new Option<string[]>("--cluster", "-c")
        {
            Description = "Validate only this cluster (repeatable)",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = CommonOptions.Output("text", "json", "sarif");
        var verifySignatures = new Option<bool>("--verify-signatures")
        {
            Description = "Also check that the commit (HEAD or --rev) is signed by a key its parent's trust.allowedSigners allows, as the reconciler will",
        };

        var changedSince = new Option<string?>("--changed-since")
        {
            Description = "Render and check only the clusters whose desired state the changes since this Git revision can affect (fleet-wide files → all)",
        };

        var command = new Command("validate", "Validate the fleet repo and render every cluster; exit 1 on any error")
        {
            path, revision, clusters, output, verifySignatures, changedSince,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(
            context, parse.GetValue(path)!, parse.GetValue(revision), parse.GetValue(clusters) ?? [], parse.GetValue(output)!, parse.GetValue(verifySignatures),
            parse.GetValue(changedSince), cancellationToken)));
        return command;
    }

    private static int Run(CliContext context, string path, string? revision, string[] clusters, string format, bool verifySignatures, string? changedSince, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        using var source = FleetSources.Open(path, revision);
        using var before = changedSince is null ? null : FleetSources.Open(path, changedSince, lazy: true);
        using var progress = context.ErrorIsTerminal && format == "text" ? new ProgressLine(context.Error, ProgressThreshold) : null;
        ChangeImpact? impact = null;
        IReadOnlyList<string> commentsOnly = [];
        var options = new ValidationOptions
        {
            Clusters = clusters,
            Checks = [new PolicyFleetCheck(), new TrustCheck(path, revision, verifySignatures), new ArtifactSignatureCheck()],
            Progress = progress is null ? null : progress.Report,
            Select = before is null ? null : fleet =>
            {
                // Git names the changed files from its index (no work-tree file is read that it knows untouched);
                // without git, the two trees are compared. The fleet as it was is read only where the change is, for
                // where its objects were placed; its own problems are not reported.
                var (changed, comments) = FleetChanges.WithoutCommentOnly(FleetChanges.FromGit(path, changedSince!, revision) ?? FleetChanges.Between(before, source), before, source);
                commentsOnly = comments;
                var (files, folders) = ChangeImpact.BeforeFiles(changed, fleet);
                using var touched = new FilteredFleetSource(before, files, folders);
                var old = new FleetLoader().Load(touched).Fleet;
                impact = ChangeImpact.Of(changed, old, fleet);
                return impact.Clusters;
            },
        };
        var report = new FleetValidator().Validate(source, options, cancellationToken);
        progress?.Dispose();

        var prefix = CommonOptions.PathPrefix(path);
        switch (format)
        {
            case "json":
                WriteTo(context.Out, stream => ReportJson.Write(stream, report, prefix));
                break;
            case "sarif":
                WriteTo(context.Out, stream => Sarif.Write(stream, report, prefix));
                break;
            default:
                if (impact is not null)
                {
                    context.Out.WriteLine(impact.All
                        ? $"changed since {changedSince}: {impact.Reasons[0]}: every cluster validated"
                        : $"changed since {changedSince}: {impact.Reasons.Count} change{(impact.Reasons.Count == 1 ? string.Empty : "s")} reach {Plural(impact.Clusters.Count, "cluster")} of {report.Fleet.Clusters.Length}; only those validated"
                            + (commentsOnly.Count == 0 ? string.Empty : $" ({Plural(commentsOnly.Count, "file")} changed only in comments or layout: {string.Join(", ", commentsOnly.Take(3))}{(commentsOnly.Count > 3 ? ", …" : string.Empty)})"));
                }

                WriteText(context.Out, report, prefix, stopwatch.Elapsed);
                break;
        }

        return report.Ok ? ExitCodes.Ok : ExitCodes.Invalid;
    }

    private static void WriteText(TextWriter writer, ValidationReport report, string prefix, TimeSpan elapsed)
    {
        foreach (var diagnostic in report.Diagnostics)
        {
            DiagnosticText.Write(writer, diagnostic, report.Files.Texts, prefix);
        }

        if (report.Diagnostics.Count > 0)
        {
            writer.WriteLine();
        }

        var rows = report.Clusters.Count <= MaxSummaryRows
            ? report.Clusters
            : report.Clusters.Where(c => c.Errors + c.Warnings > 0).ToList();
        if (rows.Count > 0)
        {
            var factKeys = report.Clusters.SelectMany(c => c.Facts.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var factHeaders = factKeys.Select(FactHeader).ToList();
            var factWidths = factKeys.Select((k, i) => Math.Max(factHeaders[i].Length, rows.Max(r => r.Facts.GetValueOrDefault(k, "-").Length))).ToList();
            var width = Math.Max("CLUSTER".Length, rows.Max(r => r.Name.Length));
            var header = $"{"CLUSTER".PadRight(width)}  WORKLOADS  DEVICES  OBJECTS  ERRORS  WARNINGS";
            for (var i = 0; i < factKeys.Count; i++)
            {
                header += "  " + factHeaders[i].PadLeft(factWidths[i]);
            }

            writer.WriteLine(header);
            foreach (var row in rows)
            {
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"{row.Name.PadRight(width)}  {row.Workloads,9}  {row.DeviceConfigs,7}  {row.Objects,7}  {row.Errors,6}  {row.Warnings,8}");
                for (var i = 0; i < factKeys.Count; i++)
                {
                    line += "  " + row.Facts.GetValueOrDefault(factKeys[i], "-").PadLeft(factWidths[i]);
                }

                writer.WriteLine(line);
            }

            if (rows.Count < report.Clusters.Count)
            {
                writer.WriteLine($"({report.Clusters.Count - rows.Count} clusters without problems not listed; use --cluster or -o json for them)");
            }

            writer.WriteLine();
        }

        if (report.Rules.Count > 0)
        {
            var width = Math.Max("POLICY".Length, report.Rules.Max(r => r.Rule.Length));
            writer.WriteLine($"{"POLICY".PadRight(width)}  ERRORS  WARNINGS  CLUSTERS");
            foreach (var rule in report.Rules)
            {
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rule.Rule.PadRight(width)}  {rule.Errors,6}  {rule.Warnings,8}  {rule.Clusters,8}"));
            }

            writer.WriteLine();
        }

        var fleet = report.Fleet;
        var verdict = report.Ok ? "valid" : "INVALID";
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fleet '{fleet.Name}' {verdict}: {Plural(report.Clusters.Count, "cluster")}, {Plural(fleet.Workloads.Length, "workload")}, {Plural(fleet.DeviceConfigs.Length, "device config")}, {Plural(fleet.UpgradePlans.Length, "upgrade plan")}; {Plural(report.ErrorCount, "error")}, {Plural(report.WarningCount, "warning")} ({elapsed.TotalSeconds:0.00}s)"));
    }

    /// <summary>monthlyCost → COST/MONTH; other facts upper-cased.</summary>
    private static string FactHeader(string key) => key switch
    {
        "monthlyCost" => "COST/MONTH",
        _ => key.ToUpperInvariant(),
    };

    private static string Plural(int count, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? string.Empty : "s")}");

    internal static void WriteTo(TextWriter writer, Action<Stream> write)
    {
        using var buffer = new MemoryStream();
        write(buffer);
        writer.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}

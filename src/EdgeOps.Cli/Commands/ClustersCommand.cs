using System.CommandLine;
using System.Globalization;
using EdgeOps.Cli.Output;
using EdgeOps.Fleet.Validation;

namespace EdgeOps.Cli.Commands;

/// <summary><c>edgeops clusters</c>: a table of clusters, their key labels and what they get.</summary>
internal static class ClustersCommand
{
    private static readonly string[] KeyLabels = ["tier", "country", "region", "site", "ring"];

    public static Command Create(CliContext context)
    {
        var path = CommonOptions.FleetPath();
        var revision = CommonOptions.Revision();
        var output = CommonOptions.Output("text", "json");
        var command = new Command("clusters", "List the fleet's clusters with their key labels, workloads placed and object counts")
        {
            path, revision, output,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(context, parse.GetValue(path)!, parse.GetValue(revision), parse.GetValue(output)!, cancellationToken)));
        return command;
    }

    private static int Run(CliContext context, string path, string? revision, string format, CancellationToken cancellationToken)
    {
        using var source = FleetSources.Open(path, revision);
        var report = new FleetValidator().Validate(source, cancellationToken: cancellationToken);
        foreach (var d in report.Diagnostics.Where(d => d.IsError))
        {
            DiagnosticText.Write(context.Error, d, report.Files.Texts, CommonOptions.PathPrefix(path));
        }

        if (format == "json")
        {
            var clusters = new System.Text.Json.Nodes.JsonArray([.. report.Clusters.Select(c => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = c.Name,
                ["labels"] = new System.Text.Json.Nodes.JsonObject([.. c.Labels.Select(l => KeyValuePair.Create(l.Key, (System.Text.Json.Nodes.JsonNode?)l.Value))]),
                ["workloads"] = c.Workloads,
                ["objects"] = c.Objects,
                ["errors"] = c.Errors,
                ["warnings"] = c.Warnings,
            })]);
            context.Out.WriteLine(new System.Text.Json.Nodes.JsonObject { ["clusters"] = clusters }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return report.Ok ? ExitCodes.Ok : ExitCodes.Invalid;
        }

        var header = new[] { "CLUSTER" }.Concat(KeyLabels.Select(l => l.ToUpperInvariant())).Concat(["WORKLOADS", "OBJECTS"]).ToArray();
        var rows = report.Clusters.Select(c => new[] { c.Name }
            .Concat(KeyLabels.Select(l => c.Labels.TryGetValue(l, out var v) ? v : "-"))
            .Concat([c.Workloads.ToString(CultureInfo.InvariantCulture), c.Objects.ToString(CultureInfo.InvariantCulture)])
            .ToArray()).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var numeric = header.Length - 2;
        string Format(string[] cells) => string.Join("  ", cells.Select((cell, i) => i >= numeric ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd();
        context.Out.WriteLine(Format(header));
        foreach (var row in rows)
        {
            context.Out.WriteLine(Format(row));
        }

        return report.Ok ? ExitCodes.Ok : ExitCodes.Invalid;
    }
}

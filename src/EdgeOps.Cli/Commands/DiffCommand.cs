using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using EdgeOps.Cli.Output;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;

namespace EdgeOps.Cli.Commands;

/// <summary><c>edgeops diff A..B</c>: per cluster, what a change to the fleet repo does.</summary>
internal static class DiffCommand
{
    public static Command Create(CliContext context)
    {
        var range = new Argument<string>("range")
        {
            Description = "Two revisions, A..B; A...B for what B changes since it left A (as git diff A...B); or one revision A to compare with the work tree",
        };
        var path = CommonOptions.FleetPath();
        var output = CommonOptions.Output("text", "json", "markdown");
        var clusters = new Option<string[]>("--cluster") { Description = "Only this cluster (repeatable)", Arity = ArgumentArity.OneOrMore };
        var selector = new Option<string?>("--selector", "-l") { Description = "Only clusters whose labels match, e.g. 'tier=far,country in (ES,IT)'" };
        var exitCode = new Option<bool>("--exit-code") { Description = "Exit 1 when there are changes, 0 when none (as git diff --exit-code)" };
        var command = new Command("diff", "Show, per cluster, the objects added, changed and removed between two revisions")
        {
            range, path, output, clusters, selector, exitCode,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(context, parse.GetValue(range)!, parse.GetValue(path)!, parse.GetValue(output)!,
            parse.GetValue(clusters) ?? [], parse.GetValue(selector), parse.GetValue(exitCode))));
        return command;
    }

    private static int Run(CliContext context, string range, string path, string format, string[] clusterNames, string? selectorText, bool exitCode)
    {
        Fleet.Model.LabelSelector? selector = null;
        if (selectorText is not null)
        {
            selector = Fleet.Model.SelectorParser.TryParse(selectorText, out var parsed, out var why) ? parsed : throw new FleetSourceException(why!);
        }

        // As git diff reads them: A..B compares A with B; A...B compares B with where it left A (their merge base).
        var dots = range.IndexOf("..", StringComparison.Ordinal);
        var symmetric = dots >= 0 && range.AsSpan(dots).StartsWith("...");
        var from = dots < 0 ? range : range[..dots];
        var to = dots < 0 ? null : range[(dots + (symmetric ? 3 : 2))..];
        if (from.Length == 0 || to is { Length: 0 } || (to?.Contains("..", StringComparison.Ordinal) ?? false) || (to?.StartsWith('.') ?? false))
        {
            throw new FleetSourceException($"'{range}' is not a revision range; write A..B, A...B or A");
        }

        if (symmetric)
        {
            from = GitTreeFleetSource.MergeBase(path, from, to!);
        }

        var prefix = CommonOptions.PathPrefix(path);
        var loader = new FleetLoader();
        using var beforeSource = FleetSources.Open(path, from);
        using var afterSource = FleetSources.Open(path, to);
        var before = loader.Load(beforeSource);
        var after = loader.Load(afterSource);
        var failed = false;
        foreach (var (label, load) in new[] { (from, before), (to ?? "work tree", after) })
        {
            foreach (var d in load.Diagnostics.Where(d => d.IsError))
            {
                context.Error.Write($"[{label}] ");
                DiagnosticText.Write(context.Error, d, load.Files.Texts, prefix);
                failed = true;
            }
        }

        if (failed)
        {
            context.Error.WriteLine("edgeops: cannot diff: a revision has errors");
            return ExitCodes.Invalid;
        }

        foreach (var name in clusterNames.Where(n => before.Fleet.FindCluster(n) is null && after.Fleet.FindCluster(n) is null))
        {
            throw new FleetSourceException($"neither revision has a cluster named '{name}'");
        }

        var diffs = FleetDiff.Compare(before.Fleet, after.Fleet, c =>
            (clusterNames.Length == 0 || clusterNames.Contains(c.Name, StringComparer.Ordinal)) && (selector is null || selector.Matches(c.Labels)));
        var fromName = beforeSource.Revision?[..12] ?? from;
        var toName = afterSource.Revision?[..12] ?? "work tree";
        if (format == "json")
        {
            ValidateCommand.WriteTo(context.Out, stream => WriteJson(stream, fromName, toName, diffs));
        }
        else
        {
            WriteText(context.Out, fromName, toName, diffs, markdown: format == "markdown");
        }

        return exitCode && diffs.Any(d => d.Kind != ClusterChangeKind.Untouched) ? ExitCodes.Invalid : ExitCodes.Ok;
    }

    /// <summary>What makes two clusters' changes the same: every object change with its fields, old and new values.</summary>
    private static string Signature(ClusterDiff diff) =>
        diff.Kind + "|" + string.Join("|", diff.Changes.Select(c => $"{c.Kind} {c.Id} {string.Join(";", c.Fields.Select(f => $"{f.Path}={f.Old}>{f.New}"))}"));

    private static void WriteText(TextWriter writer, string from, string to, IReadOnlyList<ClusterDiff> diffs, bool markdown)
    {
        writer.WriteLine(markdown ? $"### Fleet diff `{from}..{to}`" : $"fleet diff {from}..{to}");
        if (markdown)
        {
            writer.WriteLine();
            writer.WriteLine($"{diffs.Count(d => d.Kind != ClusterChangeKind.Untouched)} of {diffs.Count} clusters change.");
        }

        // Clusters that get exactly the same change are shown once: "same change on 1,998 clusters".
        foreach (var group in diffs.Where(d => d.Kind != ClusterChangeKind.Untouched).GroupBy(Signature, StringComparer.Ordinal))
        {
            var members = group.Select(d => d.Cluster).ToList();
            var diff = group.First();
            var counts = string.Join(", ", new[] { ChangeKind.Added, ChangeKind.Changed, ChangeKind.Removed }
                .Select(k => (k, n: diff.Changes.Count(c => c.Kind == k)))
                .Where(p => p.n > 0)
                .Select(p => $"{p.n} {p.k.ToString().ToLowerInvariant()}"));
            var note = diff.Kind switch
            {
                ClusterChangeKind.Added => " (new cluster)",
                ClusterChangeKind.Removed => " (cluster removed)",
                _ => string.Empty,
            };
            var who = members.Count == 1
                ? $"cluster {diff.Cluster}{note}"
                : $"same change on {members.Count:N0} clusters{note} ({string.Join(", ", members.Take(5))}{(members.Count > 5 ? ", …" : string.Empty)})";
            writer.WriteLine();
            writer.WriteLine(markdown ? $"#### {who}: {(counts.Length == 0 ? "no objects" : counts)}" : $"{who}: {(counts.Length == 0 ? "no objects" : counts)}");
            if (markdown)
            {
                writer.WriteLine();
                writer.WriteLine("```diff");
            }

            foreach (var change in diff.Changes)
            {
                var mark = change.Kind switch { ChangeKind.Added => '+', ChangeKind.Removed => '-', _ => '~' };
                writer.WriteLine($"{(markdown ? string.Empty : "  ")}{mark} {change.Id}");
                foreach (var field in change.Fields)
                {
                    writer.WriteLine($"{(markdown ? "!" : " ")}     {field.Path}: {field.Old} → {field.New}");
                }
            }

            if (markdown)
            {
                writer.WriteLine("```");
            }
        }

        var untouched = diffs.Where(d => d.Kind == ClusterChangeKind.Untouched).Select(d => d.Cluster).ToList();
        writer.WriteLine();
        writer.WriteLine(untouched.Count == 0
            ? "untouched: none"
            : $"untouched: {untouched.Count} cluster{(untouched.Count == 1 ? string.Empty : "s")}: {string.Join(", ", untouched.Take(50))}{(untouched.Count > 50 ? ", …" : string.Empty)}");
    }

    private static void WriteJson(Stream stream, string from, string to, IReadOnlyList<ClusterDiff> diffs)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("from", from);
        writer.WriteString("to", to);
        writer.WriteStartArray("clusters");
        foreach (var diff in diffs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", diff.Cluster);
            writer.WriteString("change", diff.Kind.ToString().ToLowerInvariant());
            writer.WriteStartArray("objects");
            foreach (var change in diff.Changes)
            {
                writer.WriteStartObject();
                writer.WriteString("change", change.Kind.ToString().ToLowerInvariant());
                writer.WriteString("apiVersion", change.Id.ApiVersion);
                writer.WriteString("kind", change.Id.Kind);
                if (change.Id.Namespace is { } ns)
                {
                    writer.WriteString("namespace", ns);
                }

                writer.WriteString("name", change.Id.Name);
                writer.WriteStartArray("paths");
                foreach (var p in change.ChangedPaths)
                {
                    writer.WriteStringValue(p);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("fields");
                foreach (var field in change.Fields)
                {
                    writer.WriteStartObject();
                    writer.WriteString("path", field.Path);
                    writer.WriteString("old", field.Old);
                    writer.WriteString("new", field.New);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

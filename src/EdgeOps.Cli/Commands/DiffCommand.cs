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
            Description = "Two revisions, A..B; or one revision A to compare with the work tree",
        };
        var path = CommonOptions.FleetPath();
        var output = CommonOptions.Output("text", "json");
        var command = new Command("diff", "Show, per cluster, the objects added, changed and removed between two revisions")
        {
            range, path, output,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(context, parse.GetValue(range)!, parse.GetValue(path)!, parse.GetValue(output)!)));
        return command;
    }

    private static int Run(CliContext context, string range, string path, string format)
    {
        var dots = range.IndexOf("..", StringComparison.Ordinal);
        var from = dots < 0 ? range : range[..dots];
        var to = dots < 0 ? null : range[(dots + 2)..];
        if (from.Length == 0 || to is { Length: 0 })
        {
            throw new FleetSourceException($"'{range}' is not a revision range; write A..B");
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

        var diffs = FleetDiff.Compare(before.Fleet, after.Fleet);
        var fromName = beforeSource.Revision?[..12] ?? from;
        var toName = afterSource.Revision?[..12] ?? "work tree";
        if (format == "json")
        {
            ValidateCommand.WriteTo(context.Out, stream => WriteJson(stream, fromName, toName, diffs));
        }
        else
        {
            WriteText(context.Out, fromName, toName, diffs);
        }

        return ExitCodes.Ok;
    }

    private static void WriteText(TextWriter writer, string from, string to, IReadOnlyList<ClusterDiff> diffs)
    {
        writer.WriteLine($"fleet diff {from}..{to}");
        foreach (var diff in diffs.Where(d => d.Kind != ClusterChangeKind.Untouched))
        {
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
            writer.WriteLine();
            writer.WriteLine($"cluster {diff.Cluster}{note}: {(counts.Length == 0 ? "no objects" : counts)}");
            foreach (var change in diff.Changes)
            {
                var mark = change.Kind switch { ChangeKind.Added => '+', ChangeKind.Removed => '-', _ => '~' };
                var paths = change.ChangedPaths.IsEmpty ? string.Empty : $"  ({string.Join(", ", change.ChangedPaths)})";
                writer.WriteLine($"  {mark} {change.Id}{paths}");
            }
        }

        var untouched = diffs.Where(d => d.Kind == ClusterChangeKind.Untouched).Select(d => d.Cluster).ToList();
        writer.WriteLine();
        writer.WriteLine(untouched.Count == 0
            ? "untouched: none"
            : $"untouched: {untouched.Count} cluster{(untouched.Count == 1 ? string.Empty : "s")}: {string.Join(", ", untouched)}");
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
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

using System.CommandLine;
using EdgeOps.Cli.Output;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Validation;

namespace EdgeOps.Cli.Commands;

/// <summary><c>edgeops render --cluster NAME</c>: the cluster's desired state as a YAML stream.</summary>
internal static class RenderCommand
{
    public static Command Create(CliContext context)
    {
        var path = CommonOptions.FleetPath();
        var revision = CommonOptions.Revision();
        var cluster = new Option<string>("--cluster", "-c") { Description = "The cluster to render", Required = true };
        var output = CommonOptions.Output("yaml", "json");
        var command = new Command("render", "Print one cluster's desired state as a YAML stream (or a JSON list)")
        {
            path, revision, cluster, output,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(
            context, parse.GetValue(path)!, parse.GetValue(revision), parse.GetValue(cluster)!, parse.GetValue(output)!)));
        return command;
    }

    private static int Run(CliContext context, string path, string? revision, string clusterName, string format)
    {
        using var source = FleetSources.Open(path, revision);
        var load = new FleetLoader().Load(source);
        var cluster = load.Fleet.FindCluster(clusterName);
        if (cluster is null)
        {
            foreach (var d in load.Diagnostics.Where(d => d.IsError))
            {
                DiagnosticText.Write(context.Error, d, load.Files.Texts, CommonOptions.PathPrefix(path));
            }

            throw new UnknownClusterException($"the fleet has no cluster named '{clusterName}'{FieldReaderSuggest(clusterName, load.Fleet.Clusters.Select(c => c.Name))}");
        }

        var result = new Renderer(load.Fleet).Render(cluster);
        var problems = load.Diagnostics.Concat(result.Diagnostics).ToList();
        foreach (var d in problems)
        {
            DiagnosticText.Write(context.Error, d, load.Files.Texts, CommonOptions.PathPrefix(path));
        }

        if (problems.Any(d => d.IsError))
        {
            context.Error.WriteLine($"edgeops: not rendering cluster '{clusterName}': the fleet has errors");
            return ExitCodes.Invalid;
        }

        if (format == "json")
        {
            context.Out.WriteLine("[" + string.Join(",\n", result.State.Objects.Select(o => Fleet.Yaml.JsonText.Write(o.Body))) + "]");
        }
        else
        {
            context.Out.Write(result.State.ToYaml());
        }

        return ExitCodes.Ok;
    }

    private static string FieldReaderSuggest(string name, IEnumerable<string> names)
    {
        var close = names.Where(n => n.Contains(name, StringComparison.OrdinalIgnoreCase) || name.Contains(n, StringComparison.OrdinalIgnoreCase)).Take(3).ToList();
        return close.Count == 0 ? string.Empty : $" (did you mean {string.Join(" or ", close.Select(c => $"'{c}'"))}?)";
    }
}

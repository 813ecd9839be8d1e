using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using EdgeOps.Cli.Output;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;
using EdgeOps.Policy.Checks;
using EdgeOps.Policy.Evaluation;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;

namespace EdgeOps.Cli.Commands;

/// <summary>
/// <c>edgeops check</c>: evaluate any manifest files against policies, without a fleet repo (like
/// <c>kyverno apply</c> or <c>conftest test</c>).
/// </summary>
internal static class CheckCommand
{
    public static Command Create(CliContext context)
    {
        var policies = new Option<string[]>("--policies", "-p") { Description = "A folder of policy .js files (repeatable)", Arity = ArgumentArity.OneOrMore };
        var builtIn = new Option<string[]>("--builtin", "-b")
        {
            Description = $"A built-in policy (repeatable): {string.Join(", ", BuiltInModules.PolicyNames)}",
            Arity = ArgumentArity.OneOrMore,
        };
        var clusterFile = new Option<string?>("--cluster-file") { Description = "A Cluster object whose facts the policies see as ctx.cluster" };
        var output = CommonOptions.Output("text", "json", "junit", "sarif", "github");
        var files = new Argument<string[]>("files")
        {
            Description = "Manifest files or folders (searched recursively for .yaml, .yml and .json), or - for standard input; multi-document YAML, kind: List and JSON arrays",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("check", "Evaluate manifest files against policies, without a fleet repo")
        {
            policies, builtIn, clusterFile, output, files,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(context, parse.GetValue(policies) ?? [], parse.GetValue(builtIn) ?? [],
            parse.GetValue(clusterFile), parse.GetValue(output)!, parse.GetValue(files) ?? [], cancellationToken)));
        return command;
    }

    private static int Run(CliContext context, string[] policyDirs, string[] builtIns, string? clusterFile, string format, string[] files, CancellationToken cancellationToken)
    {
        if (policyDirs.Length == 0 && builtIns.Length == 0)
        {
            throw new FleetSourceException("name the policies to apply: --policies DIR and/or --builtin NAME");
        }

        var diagnostics = new DiagnosticBag();
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        var sources = new List<PolicySourceFile>();
        foreach (var name in builtIns)
        {
            if (!BuiltInModules.PolicyNames.Contains(name))
            {
                throw new FleetSourceException($"no built-in policy named '{name}'; built-in policies: {string.Join(", ", BuiltInModules.PolicyNames)}");
            }

            sources.Add(PolicySourceFile.BuiltInPolicy(name));
        }

        foreach (var dir in policyDirs)
        {
            if (!Directory.Exists(dir))
            {
                throw new FleetSourceException($"policy folder '{dir}' does not exist");
            }

            foreach (var file in PolicyLoader.FromDirectory(dir, CommonOptions.PathPrefix(dir), diagnostics))
            {
                texts[file.DisplayPath] = file.Text;
                sources.Add(file);
            }
        }

        Cluster? cluster = null;
        if (clusterFile is not null)
        {
            var text = ReadInput(clusterFile);
            texts[clusterFile] = text;
            cluster = FleetLoader.ReadCluster(clusterFile, text, diagnostics);
        }

        var documents = new List<ManifestDocument>();
        foreach (var (display, text) in Inputs(files, context))
        {
            texts[display] = text;
            documents.AddRange(StandaloneTarget.Read(display, text, diagnostics));
        }

        // A document that cannot be read is a located error for that document (and exit 2); the rest is still checked.
        var unreadable = diagnostics.ToSortedList();
        foreach (var d in unreadable)
        {
            DiagnosticText.Write(context.Error, d, texts, string.Empty);
        }

        diagnostics = new DiagnosticBag();

        var set = PolicyLoader.Load(sources, diagnostics);
        // Every object is judged once: nothing would ever be answered from remembered outcomes.
        using var engine = new PolicyEngine(set, new PolicyEngineOptions { CancellationToken = cancellationToken, RememberOutcomes = false });
        var evaluation = engine.Evaluate(StandaloneTarget.For(documents, cluster));
        foreach (var error in evaluation.Errors)
        {
            diagnostics.Add(error);
        }

        var problems = diagnostics.ToSortedList();
        var all = problems.Concat(evaluation.Violations.Select(PolicyFleetCheck.ToDiagnostic)).ToList();
        if (format == "json")
        {
            ValidateCommand.WriteTo(context.Out, stream => WriteJson(stream, documents, evaluation, problems));
        }
        else if (format == "sarif")
        {
            ValidateCommand.WriteTo(context.Out, stream => Sarif.Write(stream, [.. unreadable, .. all], string.Empty));
        }
        else if (format == "github")
        {
            foreach (var d in unreadable.Concat(all))
            {
                context.Out.WriteLine(GitHubAnnotations.Line(d));
            }
        }
        else if (format == "junit")
        {
            ValidateCommand.WriteTo(context.Out, stream => CheckJUnit.Write(stream, documents, set, evaluation, [.. unreadable, .. problems]));
        }
        else
        {
            foreach (var d in problems.Concat(evaluation.Violations.Select(PolicyFleetCheck.ToDiagnostic)))
            {
                DiagnosticText.Write(context.Out, d, texts, string.Empty);
            }

            var errors = evaluation.Violations.Count(v => v.Severity == PolicySeverity.Error);
            var warnings = evaluation.Violations.Length - errors;
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{documents.Count} objects, {set.Policies.Length} policies: {errors} error violations, {warnings} warnings, {problems.Count(p => p.IsError)} policy errors"));
        }

        if (unreadable.Any(d => d.IsError))
        {
            return ExitCodes.UsageOrIo;
        }

        return evaluation.Violations.Any(v => v.Severity == PolicySeverity.Error) || problems.Any(p => p.IsError) ? ExitCodes.Invalid : ExitCodes.Ok;
    }

    /// <summary>The texts to check: files as given, folders searched recursively in name order, and - for standard input.</summary>
    private static IEnumerable<(string Display, string Text)> Inputs(string[] arguments, CliContext context)
    {
        foreach (var argument in arguments)
        {
            if (argument == "-")
            {
                yield return ("<stdin>", (context.In ?? Console.In).ReadToEnd());
            }
            else if (Directory.Exists(argument))
            {
                var found = Directory.EnumerateFiles(argument, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden })
                    .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                foreach (var file in found)
                {
                    yield return (file, ReadInput(file));
                }
            }
            else
            {
                yield return (argument, ReadInput(argument));
            }
        }
    }

    private static string ReadInput(string path)
    {
        if (!File.Exists(path))
        {
            throw new FleetSourceException($"file '{path}' does not exist");
        }

        return File.ReadAllText(path);
    }

    private static void WriteJson(Stream stream, List<ManifestDocument> documents, PolicyEvaluation evaluation, IReadOnlyList<Diagnostic> problems)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteStartArray("objects");
        foreach (var document in documents)
        {
            var id = document.Id;
            writer.WriteStartObject();
            writer.WriteString("file", document.File);
            writer.WriteNumber("document", document.Document);
            writer.WriteString("apiVersion", id.ApiVersion);
            writer.WriteString("kind", id.Kind);
            if (id.Namespace is null)
            {
                writer.WriteNull("namespace");
            }
            else
            {
                writer.WriteString("namespace", id.Namespace);
            }

            writer.WriteString("name", id.Name);
            writer.WriteStartArray("violations");
            foreach (var v in evaluation.Violations.Where(v => v.Object == id && v.Location.Path == document.File))
            {
                writer.WriteStartObject();
                writer.WriteString("policy", v.Policy);
                if (v.Control is null)
                {
                    writer.WriteNull("control");
                }
                else
                {
                    writer.WriteString("control", v.Control);
                }

                writer.WriteString("severity", v.Severity == PolicySeverity.Error ? "error" : "warning");
                writer.WriteString("message", v.Message);
                if (v.Path is null)
                {
                    writer.WriteNull("path");
                }
                else
                {
                    writer.WriteString("path", v.Path);
                }

                writer.WriteNumber("line", v.Location.Line);
                writer.WriteNumber("column", v.Location.Column);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("errors");
        foreach (var problem in problems)
        {
            ReportJson.WriteDiagnostic(writer, problem, string.Empty);
        }

        writer.WriteEndArray();
        writer.WriteStartObject("summary");
        writer.WriteNumber("objects", documents.Count);
        writer.WriteNumber("violations", evaluation.Violations.Length);
        writer.WriteNumber("errors", evaluation.Violations.Count(v => v.Severity == PolicySeverity.Error));
        writer.WriteNumber("warnings", evaluation.Violations.Count(v => v.Severity == PolicySeverity.Warning));
        writer.WriteNumber("policyErrors", problems.Count(p => p.IsError));
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}

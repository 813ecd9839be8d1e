using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Acornima;
using Acornima.Ast;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Sources;
using EdgeOps.Policy.Sandbox;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using SourceLocation = EdgeOps.Fleet.Diagnostics.SourceLocation;

namespace EdgeOps.Policy.Loading;

/// <summary>
/// Parses policy files, checks their imports and reads their <c>policy</c> declaration. A policy
/// that cannot be loaded is reported at its file and line and left out; the others still run.
/// </summary>
public static partial class PolicyLoader
{
    private static readonly string[] Severities = ["error", "warning"];

    public static PolicySet Load(IEnumerable<PolicySourceFile> files, DiagnosticBag diagnostics)
    {
        var loaded = new List<PolicyDefinition>();
        var byName = new Dictionary<string, PolicyDefinition>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var policy = LoadOne(file, diagnostics);
            if (policy is null)
            {
                continue;
            }

            if (byName.TryGetValue(policy.Name, out var first))
            {
                diagnostics.Error(policy.Location, Codes.PolicyUnknown, $"policy name '{policy.Name}' is already used by {first.File}");
                continue;
            }

            byName[policy.Name] = policy;
            loaded.Add(policy);
        }

        return new PolicySet([.. loaded.OrderBy(p => p.Name, StringComparer.Ordinal)]);
    }

    /// <summary>The .js files directly inside a folder on disk, in name order.</summary>
    /// <summary>
    /// The .js files directly inside a folder on disk, in name order, read as a fleet's files are: no
    /// link out of the folder, no FIFO or device, size and encoding checked; each refusal is a located error.
    /// </summary>
    public static IEnumerable<PolicySourceFile> FromDirectory(string directory, string displayPrefix, DiagnosticBag diagnostics)
    {
        using var source = new DirectoryFleetSource(directory);
        var files = new FleetFiles(source);
        foreach (var name in source.Entries.Keys.Where(p => !p.Contains('/', StringComparison.Ordinal) && p.EndsWith(".js", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList())
        {
            var bag = new DiagnosticBag();
            var text = files.ReadText(name, bag);
            foreach (var d in bag.ToSortedList())
            {
                diagnostics.Add(d with { Location = d.Location with { Path = displayPrefix + d.Location.Path } });
            }

            if (text is not null)
            {
                yield return new PolicySourceFile(displayPrefix + name, text);
            }
        }
    }

    private static PolicyDefinition? LoadOne(PolicySourceFile file, DiagnosticBag diagnostics)
    {
        Prepared<Module> module;
        try
        {
            module = SandboxFactory.Prepare(file.Text, "policy:" + file.DisplayPath);
        }
        catch (ScriptPreparationException ex)
        {
            diagnostics.Error(SyntaxLocation(file.DisplayPath, ex), Codes.PolicySyntax, $"policy does not parse: {SyntaxMessage(ex)}");
            return null;
        }

        if (module.Program is null || !CheckImports(file.DisplayPath, module.Program, diagnostics))
        {
            return null;
        }

        // Each policy's declaration is read in an engine of its own, under the sandbox's limits: what
        // one module body does (a getter on Object.prototype, an endless loop) reaches no other policy.
        var specifier = "policy:" + file.DisplayPath;
        var engine = SandboxFactory.Create(PolicyLimits.Default, DateTimeOffset.UnixEpoch, CancellationToken.None);
        var deadline = engine.Constraints.Find<CallDeadline>()!;
        deadline.Begin(PolicyLimits.Default.Timeout, CancellationToken.None);
        try
        {
            engine.Constraints.Reset();
            engine.Modules.Add(specifier, builder => builder.AddModule(module));
            var exports = engine.Modules.Import(specifier);
            return ReadDefinition(file, module, exports, diagnostics);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var failure = Evaluation.PolicyRealm.Classify(ex, specifier, file.DisplayPath, "its module body", SourceLocation.FileStart(file.DisplayPath));
            diagnostics.Error(failure.Location, failure.Code, $"policy fails while loading: {failure.Message}");
            return null;
        }
        finally
        {
            deadline.End();
        }
    }

    private static PolicyDefinition? ReadDefinition(PolicySourceFile file, Prepared<Module> module, ObjectInstance exports, DiagnosticBag diagnostics)
    {
        var where = SourceLocation.FileStart(file.DisplayPath);
        var declaration = ExportLocation(file, "policy") ?? where;
        if (exports.Get("policy") is not ObjectInstance meta)
        {
            diagnostics.Error(where, Codes.PolicyDefinition, "policy must export its declaration: export const policy = { name, severity, ... }");
            return null;
        }

        var ok = true;
        void Problem(string message)
        {
            diagnostics.Error(declaration, Codes.PolicyDefinition, message);
            ok = false;
        }

        var name = meta.Get("name");
        if (!name.IsString() || !Fleet.Loading.Names.IsDnsLabel(name.AsString()))
        {
            Problem("policy.name must be a lowercase name of letters, digits and '-' (such as image-provenance)");
        }

        var severity = meta.Get("severity");
        var severityText = severity.IsUndefined() ? "error" : severity.IsString() ? severity.AsString() : "?";
        if (!Severities.Contains(severityText))
        {
            Problem("policy.severity must be \"error\" or \"warning\"");
        }

        var controls = StringList(meta.Get("controls"), "policy.controls", Problem);
        var description = meta.Get("description");
        ImmutableHashSet<string>? kinds = null;
        var labelKeys = ImmutableArray<string>.Empty;
        if (meta.Get("match") is ObjectInstance match)
        {
            var kindList = StringList(match.Get("kinds"), "policy.match.kinds", Problem);
            if (!kindList.IsDefaultOrEmpty && !kindList.Contains("*"))
            {
                kinds = [.. kindList];
            }

            labelKeys = StringList(match.Get("labels"), "policy.match.labels", Problem);
        }

        var validate = exports.Get("validate");
        var validateCluster = exports.Get("validateCluster");
        if (validate is not Jint.Native.Function.Function && validateCluster is not Jint.Native.Function.Function)
        {
            Problem("policy must export a function validate(object, ctx) or validateCluster(desired, ctx)");
        }

        if (!ok)
        {
            return null;
        }

        return new PolicyDefinition
        {
            Name = name.AsString(),
            Description = description.IsString() ? description.AsString() : string.Empty,
            Severity = severityText == "warning" ? PolicySeverity.Warning : PolicySeverity.Error,
            Controls = controls.IsDefault ? [] : controls,
            MatchKinds = kinds,
            MatchLabelKeys = labelKeys.IsDefault ? [] : labelKeys,
            HasValidate = validate is Jint.Native.Function.Function,
            HasValidateCluster = validateCluster is Jint.Native.Function.Function,
            File = file.DisplayPath,
            BuiltIn = file.BuiltIn,
            Module = module,
            ValidateLocation = ExportLocation(file, "validate") ?? where,
            ValidateClusterLocation = ExportLocation(file, "validateCluster") ?? where,
        };
    }

    private static ImmutableArray<string> StringList(JsValue value, string what, Action<string> problem)
    {
        if (value.IsUndefined())
        {
            return [];
        }

        if (value is not Jint.Native.JsArray array)
        {
            problem($"{what} must be a list of strings");
            return [];
        }

        var builder = ImmutableArray.CreateBuilder<string>();
        foreach (var item in array)
        {
            if (!item.IsString())
            {
                problem($"{what} must be a list of strings");
                return [];
            }

            builder.Add(item.AsString());
        }

        return builder.ToImmutable();
    }

    private static bool CheckImports(string file, Module program, DiagnosticBag diagnostics)
    {
        var ok = true;
        foreach (var statement in program.Body)
        {
            var source = statement switch
            {
                ImportDeclaration import => import.Source,
                ExportAllDeclaration all => all.Source,
                ExportNamedDeclaration named => named.Source,
                _ => null,
            };
            if (source is null || BuiltInModules.Modules.ContainsKey(source.Value?.ToString() ?? string.Empty))
            {
                continue;
            }

            var start = source.Location.Start;
            diagnostics.Error(new SourceLocation(file, start.Line, start.Column + 1), Codes.PolicyImport,
                $"policy imports '{source.Value}', which does not exist; policies may import only {string.Join(" and ", BuiltInModules.Modules.Keys.Select(k => $"\"{k}\""))}");
            ok = false;
        }

        return ok;
    }

    internal static SourceLocation Locate(string file, Acornima.SourceLocation location) =>
        location.Start.Line > 0 ? new SourceLocation(file, location.Start.Line, location.Start.Column + 1) : SourceLocation.FileStart(file);

    private static SourceLocation? ExportLocation(PolicySourceFile file, string name)
    {
        var pattern = name == "policy" ? PolicyExport() : new Regex($@"^[ \t]*export\s+(async\s+)?function\s+{Regex.Escape(name)}\b", RegexOptions.Multiline);
        var match = pattern.Match(file.Text);
        if (!match.Success)
        {
            return null;
        }

        var line = 1 + file.Text.AsSpan(0, match.Index).Count('\n');
        return new SourceLocation(file.DisplayPath, line, 1);
    }

    private static SourceLocation SyntaxLocation(string file, ScriptPreparationException ex)
    {
        if (ex.InnerException is ParseErrorException parse)
        {
            return new SourceLocation(file, Math.Max(1, parse.LineNumber), parse.Column + 1); // Acornima columns are 0-based
        }

        var match = TrailingPosition().Match(ex.Message);
        return match.Success
            ? new SourceLocation(file, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))
            : SourceLocation.FileStart(file);
    }

    private static string SyntaxMessage(ScriptPreparationException ex)
    {
        var message = ex.InnerException is ParseErrorException parse ? parse.Description ?? parse.Message : ex.Message;
        message = TrailingPosition().Replace(message, string.Empty);
        return message.Replace("Could not prepare script: ", string.Empty, StringComparison.Ordinal).Trim();
    }

    [GeneratedRegex(@"\s*\([^()]*:(\d+):(\d+)\)\s*$")]
    private static partial Regex TrailingPosition();

    [GeneratedRegex(@"^[ \t]*export\s+const\s+policy\b", RegexOptions.Multiline)]
    private static partial Regex PolicyExport();
}

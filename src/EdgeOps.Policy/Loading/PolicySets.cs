using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Sandbox;

namespace EdgeOps.Policy.Loading;

/// <summary>Assembles the policy set a fleet (or a command line) asks for.</summary>
public static class PolicySets
{
    public static PolicySet ForFleet(PolicySettings settings, FleetFiles files, DiagnosticBag diagnostics)
    {
        var sources = new List<PolicySourceFile>();
        foreach (var name in settings.BuiltIn)
        {
            if (BuiltInModules.PolicyNames.Contains(name.Value))
            {
                sources.Add(PolicySourceFile.BuiltInPolicy(name.Value));
            }
            else
            {
                diagnostics.Error(name.Location, Codes.PolicyUnknown,
                    $"no built-in policy named '{name.Value}'; built-in policies: {string.Join(", ", BuiltInModules.PolicyNames)}");
            }
        }

        foreach (var folder in settings.Paths)
        {
            // A folder's .js files, or one .js file named directly.
            var prefix = FleetFiles.Normalize(folder.Value);
            var scripts = files.Source.Entries.Values
                .Where(e => e.Kind != FleetEntryKind.Directory && e.Path.EndsWith(".js", StringComparison.Ordinal)
                    && (FleetFiles.DirectoryOf(e.Path) == prefix || e.Path == prefix))
                .Select(e => e.Path)
                .Order(StringComparer.Ordinal);
            foreach (var path in scripts)
            {
                if (files.ReadText(path, diagnostics) is { } text)
                {
                    sources.Add(new PolicySourceFile(path, text));
                }
            }
        }

        return PolicyLoader.Load(sources, diagnostics);
    }

    /// <summary>Parameters may only name policies of the set.</summary>
    public static void CheckParameters(MappingNode? parameters, PolicySet set, DiagnosticBag diagnostics)
    {
        if (parameters is null)
        {
            return;
        }

        foreach (var (key, value) in parameters.Entries)
        {
            if (!set.Policies.Any(p => p.Name == key.Value))
            {
                diagnostics.Error(key.Location, Codes.PolicySettings, $"parameters given for policy '{key.Value}', which is not enabled");
            }
            else if (value is not MappingNode)
            {
                diagnostics.Error(value.Location, Codes.PolicySettings, $"parameters of policy '{key.Value}' must be a mapping");
            }
        }
    }
}

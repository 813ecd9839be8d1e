using System.Collections.Immutable;
using System.Reflection;

namespace EdgeOps.Policy.Sandbox;

/// <summary>The JavaScript shipped inside EdgeOps: the helper modules and the built-in policies.</summary>
public static class BuiltInModules
{
    /// <summary>Module specifiers policies may import, and the resource that holds each.</summary>
    public static readonly ImmutableSortedDictionary<string, string> Modules = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
    [
        new KeyValuePair<string, string>("edgeops", "policies/lib/edgeops.js"),
        new KeyValuePair<string, string>("edgeops/pss", "policies/lib/pss.js"),
    ]);

    private static readonly Assembly Assembly = typeof(BuiltInModules).Assembly;

    /// <summary>Names of the built-in policies, such as pod-security-baseline.</summary>
    public static ImmutableArray<string> PolicyNames { get; } = [.. Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("policies/", StringComparison.Ordinal) && !n.StartsWith("policies/lib/", StringComparison.Ordinal))
        .Select(n => n["policies/".Length..^".js".Length])
        .Order(StringComparer.Ordinal)];

    public static string PolicySource(string name) => Read($"policies/{name}.js");

    public static string ModuleSource(string specifier) => Read(Modules[specifier]);

    private static string Read(string resource)
    {
        using var stream = Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"missing embedded resource {resource}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

using System.Collections.Immutable;
using Acornima.Ast;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;
using Jint;

namespace EdgeOps.Policy.Loading;

public enum PolicySeverity
{
    Error,
    Warning,
}

/// <summary>
/// A loaded, parsed policy: what its <c>export const policy</c> declares, which entry points it
/// exports, and where it lives. The parsed module is shared by every engine that runs it.
/// </summary>
public sealed record PolicyDefinition
{
    public required string Name { get; init; }

    public string Description { get; init; } = string.Empty;

    public PolicySeverity Severity { get; init; } = PolicySeverity.Error;

    public ImmutableArray<string> Controls { get; init; } = [];

    /// <summary>Kinds the policy applies to; null for every kind.</summary>
    public ImmutableHashSet<string>? MatchKinds { get; init; }

    /// <summary>Label keys an object must carry (any one of them) for the policy to apply; empty for no condition.</summary>
    public ImmutableArray<string> MatchLabelKeys { get; init; } = [];

    public bool HasValidate { get; init; }

    public bool HasValidateCluster { get; init; }

    /// <summary>The file as users know it: a fleet path, a path given on the command line, or policies/NAME.js.</summary>
    public required string File { get; init; }

    public bool BuiltIn { get; init; }

    /// <summary>Where the policy starts, and where its validate function is, for errors without a better place.</summary>
    public SourceLocation Location => SourceLocation.FileStart(File);

    public SourceLocation ValidateLocation { get; init; }

    public SourceLocation ValidateClusterLocation { get; init; }

    internal Prepared<Module> Module { get; init; }

    internal string Specifier => "policy:" + File;

    public bool Applies(ObjectIdentity id, MappingNode body)
    {
        if (MatchKinds is not null && !MatchKinds.Contains(id.Kind))
        {
            return false;
        }

        if (MatchLabelKeys.IsEmpty)
        {
            return true;
        }

        var labels = (body["metadata"] as MappingNode)?["labels"] as MappingNode;
        return labels is not null && MatchLabelKeys.Any(k => labels[k] is not null);
    }
}

/// <summary>The policies of one run, in name order, with unique names.</summary>
public sealed record PolicySet(ImmutableArray<PolicyDefinition> Policies)
{
    public static readonly PolicySet Empty = new([]);

    public bool IsEmpty => Policies.IsEmpty;
}

using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Fleet.Model;

public enum SelectorOperator
{
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

public sealed record SelectorRequirement(string Key, SelectorOperator Operator, ImmutableArray<string> Values);

/// <summary>A Kubernetes label selector: every matchLabels entry and every expression must hold.</summary>
public sealed record LabelSelector(
    ImmutableSortedDictionary<string, string> MatchLabels,
    ImmutableArray<SelectorRequirement> MatchExpressions,
    SourceLocation Location)
{
    /// <summary>The empty selector, which matches everything.</summary>
    public static readonly LabelSelector Everything = new(ImmutableSortedDictionary<string, string>.Empty, [], SourceLocation.None);

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in MatchLabels)
        {
            if (!labels.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        foreach (var requirement in MatchExpressions)
        {
            var has = labels.TryGetValue(requirement.Key, out var actual);
            var ok = requirement.Operator switch
            {
                SelectorOperator.In => has && requirement.Values.Contains(actual!, StringComparer.Ordinal),
                SelectorOperator.NotIn => !has || !requirement.Values.Contains(actual!, StringComparer.Ordinal),
                SelectorOperator.Exists => has,
                SelectorOperator.DoesNotExist => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}

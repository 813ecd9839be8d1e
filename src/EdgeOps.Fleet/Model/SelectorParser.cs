using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;

namespace EdgeOps.Fleet.Model;

/// <summary>
/// Label selectors written as on kubectl's command line: <c>tier=far,country in (ES,IT),!legacy</c>.
/// Forms: <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>.
/// </summary>
public static class SelectorParser
{
    public static bool TryParse(string text, out LabelSelector selector, out string? error)
    {
        selector = LabelSelector.Everything;
        error = null;
        var labels = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var expressions = ImmutableArray.CreateBuilder<SelectorRequirement>();
        foreach (var raw in Split(text))
        {
            var part = raw.Trim();
            if (part.Length == 0)
            {
                error = $"selector '{text}' has an empty requirement";
                return false;
            }

            var words = part.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length == 2 && (words[1].StartsWith("in ", StringComparison.Ordinal) || words[1].StartsWith("notin ", StringComparison.Ordinal)))
            {
                var notIn = words[1].StartsWith("notin", StringComparison.Ordinal);
                var list = words[1][(notIn ? 5 : 2)..].Trim();
                if (!list.StartsWith('(') || !list.EndsWith(')'))
                {
                    error = $"selector requirement '{part}': the values must be in parentheses, as in 'tier in (near,far)'";
                    return false;
                }

                var values = list[1..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                if (values.Length == 0)
                {
                    error = $"selector requirement '{part}' names no values; give at least one, as in 'tier in (far)'";
                    return false;
                }

                expressions.Add(new SelectorRequirement(words[0], notIn ? SelectorOperator.NotIn : SelectorOperator.In, [.. values]));
            }
            else if (part.Contains("!=", StringComparison.Ordinal))
            {
                var (key, value) = Pair(part, "!=");
                expressions.Add(new SelectorRequirement(key, SelectorOperator.NotIn, [value]));
            }
            else if (part.Contains('=', StringComparison.Ordinal))
            {
                var (key, value) = Pair(part, part.Contains("==", StringComparison.Ordinal) ? "==" : "=");
                if (labels.TryGetValue(key, out var other) && other != value)
                {
                    error = $"selector '{text}' asks for {key}={other} and {key}={value}";
                    return false;
                }

                labels[key] = value;
            }
            else if (part.Contains(' ', StringComparison.Ordinal))
            {
                error = $"selector requirement '{part}' is not understood (use k=v, k!=v, k, !k, k in (a,b) or k notin (a,b))";
                return false;
            }
            else if (part.StartsWith('!'))
            {
                expressions.Add(new SelectorRequirement(part[1..].Trim(), SelectorOperator.DoesNotExist, []));
            }
            else
            {
                expressions.Add(new SelectorRequirement(part, SelectorOperator.Exists, []));
            }
        }

        // Every key and value must be one a label can have, as kubectl requires: '!!x' or 'tier=a b' is a typo, not a
        // requirement that quietly matches everything or nothing.
        foreach (var (key, value) in labels)
        {
            if (Problem(key, [value]) is { } problem)
            {
                error = $"selector '{text}': {problem}";
                return false;
            }
        }

        foreach (var requirement in expressions)
        {
            if (Problem(requirement.Key, requirement.Values) is { } problem)
            {
                error = $"selector '{text}': {problem}";
                return false;
            }
        }

        selector = new LabelSelector(labels.ToImmutable(), expressions.ToImmutable(), SourceLocation.None);
        return true;
    }

    private static string? Problem(string key, IEnumerable<string> values)
    {
        if (key.Length == 0)
        {
            return "a requirement has no label key";
        }

        if (Names.CheckLabelKey(key) is { } keyProblem)
        {
            return $"label key '{key}': {keyProblem}";
        }

        return values.Select(v => Names.CheckLabelValue(v) is { } valueProblem ? $"label value '{v}' of {key}: {valueProblem}" : null).FirstOrDefault(p => p is not null);
    }

    private static (string Key, string Value) Pair(string part, string separator)
    {
        var at = part.IndexOf(separator, StringComparison.Ordinal);
        return (part[..at].Trim(), part[(at + separator.Length)..].Trim());
    }

    /// <summary>Splits at commas that are not inside parentheses.</summary>
    private static IEnumerable<string> Split(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            depth += text[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }
}

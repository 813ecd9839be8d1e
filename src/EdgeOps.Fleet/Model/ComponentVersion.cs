namespace EdgeOps.Fleet.Model;

/// <summary>
/// Versions of OS images and firmware as vendors write them ("2026.11.2", "5.15.0-rc1", "v1.29.3+k3s1"):
/// compared segment by segment, numbers as numbers and anything else by ordinal, a missing segment counting as 0.
/// A leading "v" is ignored, so "v1.2" equals "1.2".
/// </summary>
public static class ComponentVersion
{
    private static readonly char[] Separators = ['.', '-', '+', '_'];

    public static int Compare(string left, string right)
    {
        var a = Segments(left);
        var b = Segments(right);
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "0";
            var y = i < b.Length ? b[i] : "0";
            var order = long.TryParse(x, out var nx) && long.TryParse(y, out var ny) ? nx.CompareTo(ny) : string.CompareOrdinal(x, y);
            if (order != 0)
            {
                return Math.Sign(order);
            }
        }

        return 0;
    }

    private static string[] Segments(string version)
    {
        var trimmed = version.Trim();
        if (trimmed.Length > 1 && trimmed[0] is 'v' or 'V' && char.IsAsciiDigit(trimmed[1]))
        {
            trimmed = trimmed[1..];
        }

        return trimmed.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
    }
}

public enum VersionOperator
{
    Equal,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// <summary>A constraint on a component's version: <c>&gt;=2026.11</c>, <c>&lt;6</c>, <c>=1.2.3</c> or a bare version (equal).</summary>
public sealed record VersionConstraint(VersionOperator Operator, string Version)
{
    public static bool TryParse(string text, out VersionConstraint? constraint)
    {
        var t = text.Trim();
        (VersionOperator op, int length) = t switch
        {
            _ when t.StartsWith(">=", StringComparison.Ordinal) => (VersionOperator.GreaterOrEqual, 2),
            _ when t.StartsWith("<=", StringComparison.Ordinal) => (VersionOperator.LessOrEqual, 2),
            _ when t.StartsWith("==", StringComparison.Ordinal) => (VersionOperator.Equal, 2),
            _ when t.StartsWith('>') => (VersionOperator.Greater, 1),
            _ when t.StartsWith('<') => (VersionOperator.Less, 1),
            _ when t.StartsWith('=') => (VersionOperator.Equal, 1),
            _ => (VersionOperator.Equal, 0),
        };
        var version = t[length..].Trim();
        constraint = version.Length > 0 && !version.Any(c => char.IsWhiteSpace(c) || c is '<' or '>' or '=')
            ? new VersionConstraint(op, version)
            : null;
        return constraint is not null;
    }

    public bool IsSatisfiedBy(string? version)
    {
        if (version is null)
        {
            return false; // an unknown version satisfies nothing
        }

        var order = ComponentVersion.Compare(version, Version);
        return Operator switch
        {
            VersionOperator.Equal => order == 0,
            VersionOperator.Greater => order > 0,
            VersionOperator.GreaterOrEqual => order >= 0,
            VersionOperator.Less => order < 0,
            _ => order <= 0,
        };
    }

    public override string ToString() => Operator switch
    {
        VersionOperator.Equal => $"={Version}",
        VersionOperator.Greater => $">{Version}",
        VersionOperator.GreaterOrEqual => $">={Version}",
        VersionOperator.Less => $"<{Version}",
        _ => $"<={Version}",
    };
}

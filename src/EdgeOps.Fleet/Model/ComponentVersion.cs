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
            var order = CompareSegment(x, y);
            if (order != 0)
            {
                return order;
            }
        }

        return 0;
    }

    /// <summary>Runs of digits compare as numbers, other runs by ordinal ("k3s2" &lt; "k3s10", "rc1" &lt; "rc2").</summary>
    private static int CompareSegment(string x, string y)
    {
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            var digits = char.IsAsciiDigit(x[i]);
            if (digits != char.IsAsciiDigit(y[j]))
            {
                return digits ? -1 : 1;
            }

            var endX = i;
            var endY = j;
            while (endX < x.Length && char.IsAsciiDigit(x[endX]) == digits)
            {
                endX++;
            }

            while (endY < y.Length && char.IsAsciiDigit(y[endY]) == digits)
            {
                endY++;
            }

            var a = x.AsSpan(i, endX - i);
            var b = y.AsSpan(j, endY - j);
            int order;
            if (digits)
            {
                a = a.TrimStart('0');
                b = b.TrimStart('0');
                order = a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.SequenceCompareTo(b);
            }
            else
            {
                order = a.SequenceCompareTo(b);
            }

            if (order != 0)
            {
                return Math.Sign(order);
            }

            i = endX;
            j = endY;
        }

        return Math.Sign((x.Length - i).CompareTo(y.Length - j));
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

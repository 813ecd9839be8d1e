using System.Globalization;

namespace EdgeOps.Fleet.Yaml;

/// <summary>
/// Resolves plain YAML scalars to their type with the YAML 1.2 core schema, the schema that
/// YamlDotNet, go-yaml v3 and JSON agree on.
/// </summary>
public static class ScalarResolver
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    public static ScalarKind Resolve(string text)
    {
        if (text.Length == 0)
        {
            return ScalarKind.Null;
        }

        switch (text)
        {
            case "~" or "null" or "Null" or "NULL":
                return ScalarKind.Null;
            case "true" or "True" or "TRUE" or "false" or "False" or "FALSE":
                return ScalarKind.Bool;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF" or "-.inf" or "-.Inf" or "-.INF" or ".nan" or ".NaN" or ".NAN":
                return ScalarKind.Float;
        }

        var c = text[0];
        if (!(char.IsAsciiDigit(c) || c is '-' or '+' or '.'))
        {
            return ScalarKind.String;
        }

        if (IsInteger(text))
        {
            return ScalarKind.Int;
        }

        return IsFloat(text) ? ScalarKind.Float : ScalarKind.String;
    }

    public static bool TryParseInteger(string text, out long value)
    {
        if (text.StartsWith("0x", StringComparison.Ordinal))
        {
            return long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        if (text.StartsWith("0o", StringComparison.Ordinal))
        {
            value = 0;
            foreach (var ch in text.AsSpan(2))
            {
                if (ch is < '0' or > '7' || value > long.MaxValue / 8)
                {
                    return false;
                }

                value = (value * 8) + (ch - '0');
            }

            return text.Length > 2;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    public static bool TryParseNumber(string text, out double value)
    {
        if (TryParseInteger(text, out var l))
        {
            value = l;
            return true;
        }

        switch (text.TrimStart('+'))
        {
            case ".inf" or ".Inf" or ".INF":
                value = double.PositiveInfinity;
                return true;
            case "-.inf" or "-.Inf" or "-.INF":
                value = double.NegativeInfinity;
                return true;
            case ".nan" or ".NaN" or ".NAN":
                value = double.NaN;
                return true;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsInteger(string text)
    {
        if (text.StartsWith("0x", StringComparison.Ordinal) && text.Length > 2)
        {
            return !text.AsSpan(2).ContainsAnyExcept(HexDigits);
        }

        if (text.StartsWith("0o", StringComparison.Ordinal) && text.Length > 2)
        {
            return !text.AsSpan(2).ContainsAnyExceptInRange('0', '7');
        }

        var span = text.AsSpan();
        if (span[0] is '-' or '+')
        {
            span = span[1..];
        }

        return span.Length > 0 && !span.ContainsAnyExceptInRange('0', '9');
    }

    private static bool IsFloat(string text)
    {
        // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
        var i = 0;
        if (text[i] is '-' or '+')
        {
            i++;
        }

        var digits = 0;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
            digits++;
        }

        if (i < text.Length && text[i] == '.')
        {
            i++;
            var fraction = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
                fraction++;
            }

            if (digits == 0 && fraction == 0)
            {
                return false;
            }
        }
        else if (digits == 0)
        {
            return false;
        }

        if (i < text.Length && text[i] is 'e' or 'E')
        {
            i++;
            if (i < text.Length && text[i] is '-' or '+')
            {
                i++;
            }

            var exp = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
                exp++;
            }

            if (exp == 0)
            {
                return false;
            }
        }

        return i == text.Length;
    }
}

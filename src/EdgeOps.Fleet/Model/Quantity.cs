using System.Globalization;

namespace EdgeOps.Fleet.Model;

/// <summary>
/// A Kubernetes resource quantity ("500m", "1.5", "1Gi", "2M", "1e3"), held as an exact decimal.
/// </summary>
public readonly record struct Quantity(decimal Value, string Text) : IComparable<Quantity>
{
    private static readonly (string Suffix, decimal Factor)[] Suffixes =
    [
        ("Ki", 1024m), ("Mi", 1024m * 1024), ("Gi", 1024m * 1024 * 1024), ("Ti", 1024m * 1024 * 1024 * 1024),
        ("Pi", 1024m * 1024 * 1024 * 1024 * 1024), ("Ei", 1024m * 1024 * 1024 * 1024 * 1024 * 1024),
        ("n", 0.000000001m), ("u", 0.000001m), ("m", 0.001m), ("k", 1e3m), ("M", 1e6m), ("G", 1e9m),
        ("T", 1e12m), ("P", 1e15m), ("E", 1e18m),
    ];

    public static bool TryParse(string? text, out Quantity quantity)
    {
        quantity = default;
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return false;
        }

        var number = text;
        var factor = 1m;
        foreach (var (suffix, f) in Suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) && text.Length > suffix.Length)
            {
                number = text[..^suffix.Length];
                factor = f;
                break;
            }
        }

        if (factor == 1m)
        {
            var e = text.IndexOfAny(['e', 'E']);
            if (e > 0)
            {
                if (!decimal.TryParse(text[..e], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var mantissa)
                    || !int.TryParse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent)
                    || Math.Abs(exponent) > 18)
                {
                    return false;
                }

                var scaled = mantissa;
                for (var i = 0; i < Math.Abs(exponent); i++)
                {
                    scaled = exponent > 0 ? scaled * 10 : scaled / 10;
                }

                quantity = new Quantity(scaled, text);
                return true;
            }
        }

        if (number.Length == 0 || !(char.IsAsciiDigit(number[^1]) || number[^1] == '.')
            || !decimal.TryParse(number, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        try
        {
            quantity = new Quantity(value * factor, text);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    public static bool operator <(Quantity left, Quantity right) => left.Value < right.Value;

    public static bool operator >(Quantity left, Quantity right) => left.Value > right.Value;

    public static bool operator <=(Quantity left, Quantity right) => left.Value <= right.Value;

    public static bool operator >=(Quantity left, Quantity right) => left.Value >= right.Value;

    public int CompareTo(Quantity other) => Value.CompareTo(other.Value);

    public override string ToString() => Text;
}

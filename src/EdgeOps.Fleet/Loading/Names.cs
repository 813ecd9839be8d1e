using System.Text.RegularExpressions;

namespace EdgeOps.Fleet.Loading;

/// <summary>Kubernetes naming rules for names, label keys and label values.</summary>
public static partial class Names
{
    public static bool IsDnsLabel(string value) => value.Length is > 0 and <= 63 && DnsLabel().IsMatch(value);

    public static bool IsDnsSubdomain(string value) => value.Length is > 0 and <= 253 && DnsSubdomain().IsMatch(value);

    /// <summary>Returns null when <paramref name="key"/> is a valid label key, else why not.</summary>
    public static string? CheckLabelKey(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0)
        {
            var prefix = key[..slash];
            if (!IsDnsSubdomain(prefix))
            {
                return $"prefix '{prefix}' must be a DNS subdomain (lowercase letters, digits, '-' and '.')";
            }
        }

        if (name.Length is 0 or > 63 || !LabelName().IsMatch(name))
        {
            return "name part must be 1-63 characters of letters, digits, '-', '_' or '.', beginning and ending with a letter or digit";
        }

        return null;
    }

    public static string? CheckLabelValue(string value) =>
        value.Length == 0 || (value.Length <= 63 && LabelName().IsMatch(value))
            ? null
            : "must be at most 63 characters of letters, digits, '-', '_' or '.', beginning and ending with a letter or digit";

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?\\z")]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\z")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\\z")]
    private static partial Regex LabelName();
}

using EdgeOps.Fleet.Model;

namespace EdgeOps.Fleet.Tests.Model;

/// <summary>
/// Label selectors as kubectl's -l takes them (edgeops status -l, diff -l, the collector's cluster list):
/// every form matches as Kubernetes matches it, and text that is not a selector is refused with the reason.
/// </summary>
public sealed class SelectorParserTests
{
    private static readonly Dictionary<string, string> FarRobot = new(StringComparer.Ordinal)
    {
        ["tier"] = "far",
        ["country"] = "ES",
        ["edgeops.io/role"] = "robot",
    };

    [Theory]
    [InlineData("tier=far", true)]
    [InlineData("tier==far", true)]
    [InlineData("tier=near", false)]
    [InlineData("tier!=near", true)]
    [InlineData("tier!=far", false)]
    [InlineData("legacy!=yes", true)]
    [InlineData("tier", true)]
    [InlineData("legacy", false)]
    [InlineData("!legacy", true)]
    [InlineData("!tier", false)]
    [InlineData("country in (ES,IT)", true)]
    [InlineData("country in (IT)", false)]
    [InlineData("country notin (IT, PT)", true)]
    [InlineData("country notin (ES)", false)]
    [InlineData("tier=far, country in (ES,IT), !legacy, edgeops.io/role=robot", true)]
    [InlineData("tier=far,country in (IT)", false)]
    public void EveryForm_MatchesAsKubernetesDoes(string text, bool matches)
    {
        Assert.True(SelectorParser.TryParse(text, out var selector, out var error), error);
        Assert.Equal(matches, selector.Matches(FarRobot));
    }

    [Theory]
    [InlineData("!!!", "selector '!!!': label key '!!': name part must be 1-63 characters")]
    [InlineData("=far", "selector '=far': a requirement has no label key")]
    [InlineData("tier=a b", "selector 'tier=a b': label value 'a b' of tier: must be at most 63 characters")]
    [InlineData("Bad_Prefix.io/x=1", "selector 'Bad_Prefix.io/x=1': label key 'Bad_Prefix.io/x': prefix 'Bad_Prefix.io' must be a DNS subdomain")]
    [InlineData("country in (ES,I T)", "selector 'country in (ES,I T)': label value 'I T' of country")]
    [InlineData("tier in ()", "selector requirement 'tier in ()' names no values; give at least one, as in 'tier in (far)'")]
    [InlineData("tier in (far", "selector requirement 'tier in (far': the values must be in parentheses")]
    [InlineData("tier=far,,country=ES", "selector 'tier=far,,country=ES' has an empty requirement")]
    [InlineData("tier=far,tier=near", "selector 'tier=far,tier=near' asks for tier=far and tier=near")]
    [InlineData("tier is far", "selector requirement 'tier is far' is not understood")]
    public void TextThatIsNotASelector_IsRefused_SayingWhy(string text, string expected)
    {
        Assert.False(SelectorParser.TryParse(text, out _, out var error));
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }
}

namespace EdgeOps.Fleet.Loading;

/// <summary>"Did you mean …?" for a mistyped name, as every diagnostic and the command line word it.</summary>
public static class Suggestions
{
    /// <summary>" (did you mean 'x'?)" for the nearest candidate within a third of the name's length, else empty.</summary>
    public static string DidYouMean(string value, IEnumerable<string> candidates) => FieldReader.Suggest(value, candidates);
}

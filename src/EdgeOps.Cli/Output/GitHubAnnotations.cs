using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Cli.Output;

/// <summary>GitHub Actions workflow commands (<c>::error file=…,line=…,col=…,title=…::message</c>): each diagnostic an annotation on its line.</summary>
internal static class GitHubAnnotations
{
    public static string Line(Diagnostic d)
    {
        var level = d.IsError ? "error" : "warning";
        var title = d.Rule ?? d.Code;
        var where = d.Location.Line > 0
            ? $"file={Property(d.Location.Path)},line={d.Location.Line},col={Math.Max(1, d.Location.Column)},"
            : d.Location.Path.Length > 0 ? $"file={Property(d.Location.Path)}," : string.Empty;
        var clusters = d.Clusters.Count > 0 ? $" [{string.Join(", ", d.Clusters)}]" : string.Empty;
        return $"::{level} {where}title={Property(title)}::{Data($"{d.Code}: {d.Message}{clusters}")}";
    }

    // The escapes GitHub's runner expects in a command's message and in its properties.
    private static string Data(string text) => text.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    private static string Property(string text) => Data(text).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);
}

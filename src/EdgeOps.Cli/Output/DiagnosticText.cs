using System.Globalization;
using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Cli.Output;

/// <summary>
/// Compiler-style diagnostics: <c>path:line:col: error EO1234: message</c>, then the source line
/// and a caret under the column, so the fix is obvious without opening the file.
/// </summary>
internal static class DiagnosticText
{
    private const int MaxClustersListed = 5;

    public static void Write(TextWriter writer, Diagnostic diagnostic, IReadOnlyDictionary<string, string> texts, string pathPrefix)
    {
        var location = diagnostic.Location;
        var where = location.IsKnown
            ? (location.Line > 0 ? $"{pathPrefix}{location.Path}:{location.Line}:{location.Column}" : pathPrefix + location.Path)
            : pathPrefix.TrimEnd('/');
        writer.Write(where.Length == 0 ? "edgeops" : where);
        writer.Write(": ");
        writer.Write(SeverityText(diagnostic.Severity));
        writer.Write(' ');
        writer.Write(diagnostic.Code);
        writer.Write(": ");
        writer.Write(diagnostic.Message);
        if (diagnostic.Clusters.Count > 0)
        {
            writer.Write(diagnostic.Clusters.Count == 1 ? " [cluster " : " [clusters ");
            writer.Write(string.Join(", ", diagnostic.Clusters.Take(MaxClustersListed)));
            if (diagnostic.Clusters.Count > MaxClustersListed)
            {
                writer.Write(string.Create(CultureInfo.InvariantCulture, $" and {diagnostic.Clusters.Count - MaxClustersListed} more"));
            }

            writer.Write(']');
        }

        writer.WriteLine();
        if (location.IsKnown && location.Line > 0 && texts.TryGetValue(location.Path, out var text) && Line(text, location.Line) is { } line)
        {
            var number = location.Line.ToString(CultureInfo.InvariantCulture);
            var gutter = new string(' ', number.Length);
            var shown = line.Replace('\t', ' ');
            writer.WriteLine($" {number} | {shown}");
            var column = Math.Clamp(location.Column, 1, shown.Length + 1);
            writer.WriteLine($" {gutter} | {new string(' ', column - 1)}^");
        }
    }

    public static string SeverityText(Severity severity) => severity switch
    {
        Severity.Error => "error",
        Severity.Warning => "warning",
        _ => "info",
    };

    private static string? Line(string text, int number)
    {
        var start = 0;
        for (var i = 1; i < number; i++)
        {
            start = text.IndexOf('\n', start);
            if (start < 0)
            {
                return null;
            }

            start++;
        }

        var end = text.IndexOf('\n', start);
        var line = end < 0 ? text[start..] : text[start..end];
        return line.TrimEnd('\r');
    }
}

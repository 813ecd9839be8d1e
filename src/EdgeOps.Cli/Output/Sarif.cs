using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Validation;

namespace EdgeOps.Cli.Output;

/// <summary>
/// SARIF 2.1.0 as GitHub code scanning accepts it: one run, the tool with a rule per code used,
/// results with repository-relative artifact locations and 1-based regions.
/// </summary>
internal static class Sarif
{
    public const string SchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";

    public static void Write(Stream stream, ValidationReport report, string pathPrefix) => Write(stream, report.Diagnostics, pathPrefix);

    public static void Write(Stream stream, IReadOnlyList<Diagnostic> diagnostics, string pathPrefix)
    {
        // A policy violation's rule is its policy/control; every other diagnostic's rule is its code.
        static string RuleId(Diagnostic d) => d.Code == Codes.PolicyViolation && d.Rule is { } rule ? rule : d.Code;
        var codes = diagnostics.Select(RuleId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var ruleIndex = codes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        var version = typeof(Sarif).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("$schema", SchemaUri);
        writer.WriteString("version", "2.1.0");
        writer.WriteStartArray("runs");
        writer.WriteStartObject();

        writer.WriteStartObject("tool");
        writer.WriteStartObject("driver");
        writer.WriteString("name", "edgeops");
        writer.WriteString("semanticVersion", version);
        writer.WriteString("informationUri", "https://edgeops.io/docs/diagnostics");
        writer.WriteStartArray("rules");
        foreach (var code in codes)
        {
            var description = Codes.Descriptions.GetValueOrDefault(code, $"Policy rule {code}");
            writer.WriteStartObject();
            writer.WriteString("id", code);
            writer.WriteString("name", string.Concat(description.Split([' ', '/', '-', '_'], StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..])).Replace("'", string.Empty, StringComparison.Ordinal));
            writer.WriteStartObject("shortDescription");
            writer.WriteString("text", description);
            writer.WriteEndObject();
            writer.WriteStartObject("defaultConfiguration");
            writer.WriteString("level", diagnostics.First(d => RuleId(d) == code).Severity == Severity.Error ? "error" : "warning");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();

        writer.WriteStartArray("results");
        foreach (var d in diagnostics)
        {
            writer.WriteStartObject();
            writer.WriteString("ruleId", RuleId(d));
            writer.WriteNumber("ruleIndex", ruleIndex[RuleId(d)]);
            writer.WriteString("level", d.Severity switch { Severity.Error => "error", Severity.Warning => "warning", _ => "note" });
            writer.WriteStartObject("message");
            writer.WriteString("text", d.Clusters.Count == 0 ? d.Message : $"{d.Message} (clusters: {string.Join(", ", d.Clusters)})");
            writer.WriteEndObject();
            writer.WriteStartArray("locations");
            if (d.Location.IsKnown)
            {
                WriteLocation(writer, pathPrefix + d.Location.Path, d.Location.Line, d.Location.Column);
            }

            writer.WriteEndArray();
            if (d.Related.Count > 0)
            {
                writer.WriteStartArray("relatedLocations");
                var id = 1;
                foreach (var r in d.Related)
                {
                    WriteLocation(writer, pathPrefix + r.Path, r.Line, r.Column, id++);
                }

                writer.WriteEndArray();
            }

            writer.WriteStartObject("partialFingerprints");
            writer.WriteString("edgeopsDiagnostic/v1", Fingerprint(d));
            writer.WriteEndObject();
            if (d.Clusters.Count > 0)
            {
                writer.WriteStartObject("properties");
                writer.WriteStartArray("clusters");
                foreach (var c in d.Clusters)
                {
                    writer.WriteStringValue(c);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteLocation(Utf8JsonWriter writer, string uri, int line, int column, int? id = null)
    {
        writer.WriteStartObject();
        if (id is { } value)
        {
            writer.WriteNumber("id", value);
        }

        writer.WriteStartObject("physicalLocation");
        writer.WriteStartObject("artifactLocation");
        writer.WriteString("uri", uri);
        writer.WriteString("uriBaseId", "%SRCROOT%");
        writer.WriteEndObject();
        writer.WriteStartObject("region");
        writer.WriteNumber("startLine", Math.Max(1, line));
        writer.WriteNumber("startColumn", Math.Max(1, column));
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static string Fingerprint(Diagnostic d)
    {
        var text = $"{d.Code}|{d.Location.Path}|{d.Message}";
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}

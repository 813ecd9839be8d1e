using System.Text.Encodings.Web;
using System.Text.Json;
using EdgeOps.Cli.Output;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Validation;

namespace EdgeOps.Cli.Output;

/// <summary>
/// The JSON form of a validation report (schema <c>edgeops.io/validate-report/v1</c>, documented in
/// docs/validate-report.md): the fleet, every diagnostic, every cluster's summary and the totals.
/// </summary>
internal static class ReportJson
{
    public const string Schema = "edgeops.io/validate-report/v1";

    public static void Write(Stream stream, ValidationReport report, string pathPrefix)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("schema", Schema);
        writer.WriteString("fleet", report.Fleet.Name);
        writer.WriteString("source", report.Source);
        if (report.Fleet.Revision is { } revision)
        {
            writer.WriteString("revision", revision);
        }
        else
        {
            writer.WriteNull("revision");
        }

        writer.WriteBoolean("ok", report.Ok);
        writer.WriteStartObject("summary");
        writer.WriteNumber("clusters", report.Clusters.Count);
        writer.WriteNumber("workloads", report.Fleet.Workloads.Length);
        writer.WriteNumber("deviceConfigs", report.Fleet.DeviceConfigs.Length);
        writer.WriteNumber("upgradePlans", report.Fleet.UpgradePlans.Length);
        writer.WriteNumber("errors", report.ErrorCount);
        writer.WriteNumber("warnings", report.WarningCount);
        writer.WriteEndObject();

        writer.WriteStartArray("diagnostics");
        foreach (var d in report.Diagnostics)
        {
            WriteDiagnostic(writer, d, pathPrefix);
        }

        writer.WriteEndArray();

        writer.WriteStartArray("clusters");
        foreach (var c in report.Clusters)
        {
            writer.WriteStartObject();
            writer.WriteString("name", c.Name);
            writer.WriteStartObject("labels");
            foreach (var (key, value) in c.Labels)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            writer.WriteNumber("workloads", c.Workloads);
            writer.WriteNumber("deviceConfigs", c.DeviceConfigs);
            writer.WriteNumber("upgradePlans", c.UpgradePlans);
            writer.WriteNumber("objects", c.Objects);
            writer.WriteNumber("errors", c.Errors);
            writer.WriteNumber("warnings", c.Warnings);
            writer.WriteStartObject("facts");
            foreach (var (key, value) in c.Facts)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("policies");
        foreach (var rule in report.Rules)
        {
            writer.WriteStartObject();
            writer.WriteString("name", rule.Rule);
            writer.WriteNumber("errors", rule.Errors);
            writer.WriteNumber("warnings", rule.Warnings);
            writer.WriteNumber("clusters", rule.Clusters);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static void WriteDiagnostic(Utf8JsonWriter writer, Diagnostic d, string pathPrefix)
    {
        writer.WriteStartObject();
        writer.WriteString("severity", DiagnosticText.SeverityText(d.Severity));
        writer.WriteString("code", d.Code);
        writer.WriteString("message", d.Message);
        if (d.Rule is { } rule)
        {
            writer.WriteString("rule", rule);
        }

        if (d.Location.IsKnown)
        {
            writer.WriteString("file", pathPrefix + d.Location.Path);
            writer.WriteNumber("line", d.Location.Line);
            writer.WriteNumber("column", d.Location.Column);
        }
        else
        {
            writer.WriteNull("file");
        }

        writer.WriteStartArray("clusters");
        foreach (var cluster in d.Clusters)
        {
            writer.WriteStringValue(cluster);
        }

        writer.WriteEndArray();
        if (d.Related.Count > 0)
        {
            writer.WriteStartArray("related");
            foreach (var r in d.Related)
            {
                writer.WriteStartObject();
                writer.WriteString("file", pathPrefix + r.Path);
                writer.WriteNumber("line", r.Line);
                writer.WriteNumber("column", r.Column);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}

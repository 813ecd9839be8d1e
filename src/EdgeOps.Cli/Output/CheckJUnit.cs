using System.Globalization;
using System.Xml;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Policy.Evaluation;
using EdgeOps.Policy.Loading;

namespace EdgeOps.Cli.Output;

/// <summary>
/// <c>edgeops check -o junit</c>: a test suite per policy, a test case per object it applies to; error
/// violations are failures, and documents or policies that could not be read are errors.
/// </summary>
internal static class CheckJUnit
{
    public static void Write(Stream stream, IReadOnlyList<ManifestDocument> documents, PolicySet set, PolicyEvaluation evaluation, IReadOnlyList<Diagnostic> problems)
    {
        using var xml = XmlWriter.Create(stream, new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) });
        xml.WriteStartElement("testsuites");
        xml.WriteAttributeString("name", "edgeops check");
        foreach (var policy in set.Policies)
        {
            var cases = documents.Where(d => policy.Applies(d.Id, d.Body)).ToList();
            var failing = cases.Count(d => Failures(evaluation, policy.Name, d).Any());
            xml.WriteStartElement("testsuite");
            xml.WriteAttributeString("name", policy.Name);
            xml.WriteAttributeString("tests", cases.Count.ToString(CultureInfo.InvariantCulture));
            xml.WriteAttributeString("failures", failing.ToString(CultureInfo.InvariantCulture));
            foreach (var document in cases)
            {
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("classname", policy.Name);
                xml.WriteAttributeString("name", $"{document.Id} ({document.File})");
                var failures = Failures(evaluation, policy.Name, document).ToList();
                if (failures.Count > 0)
                {
                    xml.WriteStartElement("failure");
                    xml.WriteAttributeString("message", failures[0].Message);
                    xml.WriteString(string.Join('\n', failures.Select(f => $"{f.Location}: {f.Rule}: {f.Message}")));
                    xml.WriteEndElement();
                }

                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        if (problems.Count > 0)
        {
            xml.WriteStartElement("testsuite");
            xml.WriteAttributeString("name", "inputs");
            xml.WriteAttributeString("tests", problems.Count.ToString(CultureInfo.InvariantCulture));
            xml.WriteAttributeString("errors", problems.Count(p => p.IsError).ToString(CultureInfo.InvariantCulture));
            foreach (var problem in problems)
            {
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("classname", "inputs");
                xml.WriteAttributeString("name", problem.Location.ToString());
                xml.WriteStartElement(problem.IsError ? "error" : "skipped");
                xml.WriteAttributeString("message", $"{problem.Code}: {problem.Message}");
                xml.WriteEndElement();
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
    }

    private static IEnumerable<PolicyViolation> Failures(PolicyEvaluation evaluation, string policy, ManifestDocument document) =>
        evaluation.Violations.Where(v => v.Policy == policy && v.Severity == PolicySeverity.Error && v.Object == document.Id && v.Location.Path == document.File);
}

using System.CommandLine;
using System.Globalization;
using System.Xml;
using EdgeOps.Cli.Output;
using EdgeOps.Fleet.Sources;
using EdgeOps.Policy.Testing;

namespace EdgeOps.Cli.Commands;

/// <summary><c>edgeops test [DIR]</c>: run policy test cases (kind PolicyTest), like <c>kyverno test</c>.</summary>
internal static class TestCommand
{
    public static Command Create(CliContext context)
    {
        var directory = new Argument<string>("dir")
        {
            Description = "A folder of policies and PolicyTest files (searched recursively); default: policies",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => "policies",
        };
        var output = CommonOptions.Output("text", "junit");
        var command = new Command("test", "Run policy test cases and report pass/fail per policy and control")
        {
            directory, output,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(context, parse.GetValue(directory)!, parse.GetValue(output)!, cancellationToken)));
        return command;
    }

    private static int Run(CliContext context, string directory, string format, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            throw new FleetSourceException($"policy folder '{directory}' does not exist");
        }

        var report = new PolicyTestRunner().Run(directory, cancellationToken);
        foreach (var d in report.Diagnostics)
        {
            DiagnosticText.Write(context.Error, d, new Dictionary<string, string>(), string.Empty);
        }

        if (format == "junit")
        {
            WriteJUnit(context.Out, report);
        }
        else
        {
            foreach (var c in report.Cases)
            {
                context.Out.WriteLine($"{(c.Passed ? "PASS" : "FAIL")}  {c.Suite}: {c.Name}");
                if (!c.Passed)
                {
                    context.Out.WriteLine($"      {c.Location}: {c.Failure}");
                }
            }

            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.Passed} passed, {report.Failed} failed"));
        }

        return report.Ok ? ExitCodes.Ok : ExitCodes.Invalid;
    }

    private static void WriteJUnit(TextWriter output, PolicyTestReport report)
    {
        var settings = new XmlWriterSettings { Indent = true, OmitXmlDeclaration = false };
        using var xml = XmlWriter.Create(output, settings);
        xml.WriteStartElement("testsuites");
        xml.WriteAttributeString("name", "edgeops policy tests");
        xml.WriteAttributeString("tests", report.Cases.Length.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("failures", report.Failed.ToString(CultureInfo.InvariantCulture));
        foreach (var suite in report.Cases.GroupBy(c => c.Suite))
        {
            xml.WriteStartElement("testsuite");
            xml.WriteAttributeString("name", suite.Key);
            xml.WriteAttributeString("tests", suite.Count().ToString(CultureInfo.InvariantCulture));
            xml.WriteAttributeString("failures", suite.Count(c => !c.Passed).ToString(CultureInfo.InvariantCulture));
            foreach (var c in suite)
            {
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("classname", suite.Key);
                xml.WriteAttributeString("name", c.Name);
                xml.WriteAttributeString("file", c.Location.Path);
                xml.WriteAttributeString("line", c.Location.Line.ToString(CultureInfo.InvariantCulture));
                xml.WriteAttributeString("time", c.Duration.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture));
                if (!c.Passed)
                {
                    xml.WriteStartElement("failure");
                    xml.WriteAttributeString("message", c.Failure ?? "failed");
                    xml.WriteString($"{c.Location}: {c.Failure}");
                    xml.WriteEndElement();
                }

                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.Flush();
        output.WriteLine();
    }
}

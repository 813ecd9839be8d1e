using System.Text;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Validation;

/// <summary>
/// Golden files: every folder under testdata/broken is a fleet with mistakes and an expected.txt
/// listing exactly the diagnostics <c>edgeops validate</c> must give. Set EDGEOPS_UPDATE_GOLDEN=1
/// to rewrite the expected files after an intended change, then review the diff.
/// </summary>
public sealed class BrokenFleetGoldenTests
{
    public static TheoryData<string> Cases() => RepoPaths.BrokenFleetNames();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_BrokenFleet_ReportsExactlyTheExpectedDiagnostics(string name)
    {
        var folder = Path.Combine(RepoPaths.BrokenFleets, name);
        using var source = new DirectoryFleetSource(folder);
        var report = new FleetValidator().Validate(source);

        var actual = Format(report);
        var expectedPath = Path.Combine(folder, "expected.txt");
        if (Environment.GetEnvironmentVariable("EDGEOPS_UPDATE_GOLDEN") == "1")
        {
            // Writing the files is never a pass: the new diagnostics need a person's review (git diff) first.
            var changed = !File.Exists(expectedPath) || File.ReadAllText(expectedPath) != actual;
            File.WriteAllText(expectedPath, actual, new UTF8Encoding(false));
            Assert.Fail($"EDGEOPS_UPDATE_GOLDEN=1: {(changed ? "rewrote" : "checked")} {expectedPath}; review the change with git diff, then run the tests without it");
        }

        Assert.True(File.Exists(expectedPath), $"missing {expectedPath}; run with EDGEOPS_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(expectedPath), actual);
        Assert.False(report.Ok, "a broken fleet must not validate");
    }

    private static string Format(ValidationReport report)
    {
        var builder = new StringBuilder();
        foreach (var d in report.Diagnostics)
        {
            builder.Append(d.ToString());
            if (d.Clusters.Count > 0)
            {
                builder.Append(" [").Append(string.Join(", ", d.Clusters)).Append(']');
            }

            builder.Append('\n');
        }

        return builder.ToString();
    }
}

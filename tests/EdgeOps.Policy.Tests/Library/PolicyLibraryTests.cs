using EdgeOps.Policy.Sandbox;
using EdgeOps.Policy.Testing;
using EdgeOps.Tests;

namespace EdgeOps.Policy.Tests.Library;

/// <summary>The built-in library's own test cases (policies/tests) all pass, and every policy has some.</summary>
public sealed class PolicyLibraryTests
{
    private static readonly Lazy<PolicyTestReport> Report = new(() => new PolicyTestRunner().Run(Path.Combine(RepoPaths.Root, "policies")));

    [Fact]
    public void PolicyTests_OfTheBuiltInLibrary_AllPass()
    {
        var report = Report.Value;
        Assert.Empty(report.Diagnostics);
        Assert.All(report.Cases, c => Assert.True(c.Passed, $"{c.Suite}: {c.Name}: {c.Failure}"));
        Assert.True(report.Cases.Length >= 40, $"only {report.Cases.Length} cases");
    }

    [Fact]
    public void PolicyTests_CoverEveryBuiltInPolicy()
    {
        var tested = Report.Value.Cases.Select(c => c.Name.Split(' ')[1].Split('/')[0]).ToHashSet();
        Assert.Subset(tested, BuiltInModules.PolicyNames.ToHashSet());
    }

    [Fact]
    public void BuiltInPolicies_AreThoseTheLibraryPromises()
    {
        Assert.Equal(
            ["cost-budget", "data-residency", "device-access", "image-provenance", "pod-security-baseline", "pod-security-restricted", "resources"],
            BuiltInModules.PolicyNames.ToArray());
    }
}

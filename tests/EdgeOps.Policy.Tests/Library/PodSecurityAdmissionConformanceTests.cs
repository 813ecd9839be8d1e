using EdgeOps.Policy.Evaluation;
using EdgeOps.Tests;

namespace EdgeOps.Policy.Tests.Library;

/// <summary>
/// Ground truth from Kubernetes' pod-security-admission fixtures (../shared/testdata): every pass
/// fixture is admitted at its level; every fail fixture is denied naming its check. At baseline each
/// fixture breaks exactly one rule and must be denied for exactly that check. Restricted fixtures are
/// made from a restricted pod by one change that may break a second rule as well (a container without
/// a securityContext has neither allowPrivilegeEscalation: false nor dropped capabilities; a hostPath
/// volume is both a hostPath and a restricted volume type), so there the check must be among those named.
/// </summary>
public sealed class PodSecurityAdmissionConformanceTests
{
    private static readonly string Fixtures = GroundTruth.Folder("pod-security-admission");

    /// <summary>Fixtures at v1.37: baseline and restricted, pass and fail.</summary>
    private const int FixtureCount = 148;

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        if (!Directory.Exists(Fixtures))
        {
            data.Add("missing", "missing", "missing");
            return data;
        }

        foreach (var file in Directory.EnumerateFiles(Fixtures, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(Fixtures, file).Split(Path.DirectorySeparatorChar);
            data.Add(relative[0], relative[2], relative[3]);
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void PodSecurityPolicy_Fixture_IsJudgedLikePodSecurityAdmission(string level, string expected, string file)
    {
        Skip.IfNot(GroundTruth.Present(Fixtures), $"the pod-security-admission fixtures are not at {Fixtures} (they come with ../shared beside the checkout)");
        var path = Path.Combine(Fixtures, level, "v1.37", expected, file);
        var set = PolicyHarness.BuiltIn($"pod-security-{level}");

        var evaluation = PolicyHarness.Evaluate(set, File.ReadAllText(path));

        Assert.Empty(evaluation.Errors);
        var named = evaluation.Violations.Select(v => v.Control!.ToLowerInvariant()).Distinct().Order().ToList();
        if (expected == "pass")
        {
            Assert.True(named.Count == 0, $"{level}/{file} should be admitted, but was denied for {string.Join(", ", named)}");
            return;
        }

        var check = System.Text.RegularExpressions.Regex.Replace(Path.GetFileNameWithoutExtension(file), @"\d+$", string.Empty);
        Assert.Contains(check, named);
        if (level == "baseline")
        {
            Assert.Equal([check], named);
        }

        Assert.All(evaluation.Violations, v => Assert.Equal("objects.yaml", v.Location.Path));
    }

    [SkippableFact]
    public void PodSecurityPolicies_CoverEveryCheckTheFixturesName()
    {
        Skip.IfNot(GroundTruth.Present(Fixtures), $"the pod-security-admission fixtures are not at {Fixtures}");
        var checks = Directory.EnumerateFiles(Fixtures, "*.yaml", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}fail{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => System.Text.RegularExpressions.Regex.Replace(Path.GetFileNameWithoutExtension(f), @"\d+$", string.Empty))
            .ToHashSet();
        var controls = PolicyHarness.BuiltIn("pod-security-restricted").Policies.Single().Controls.Select(c => c.ToLowerInvariant()).ToHashSet();

        Assert.Subset(controls, checks);
    }

    [SkippableFact]
    public void Fixtures_AreAllThere_AndEachIsACase()
    {
        Skip.IfNot(GroundTruth.Present(Fixtures), $"the pod-security-admission fixtures are not at {Fixtures}");

        Assert.Equal(FixtureCount, Directory.EnumerateFiles(Fixtures, "*.yaml", SearchOption.AllDirectories).Count());
        Assert.Equal(FixtureCount, Cases().Count);
    }
}

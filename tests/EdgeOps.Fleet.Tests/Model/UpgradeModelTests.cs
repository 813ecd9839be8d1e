using EdgeOps.Fleet.Model;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Model;

/// <summary>What UpgradePlans and Workload requirements mean: component versions, constraints, health checks, download settings.</summary>
public sealed class UpgradeModelTests
{
    [Theory]
    [InlineData("2026.11.2", "2026.11.2", 0)]
    [InlineData("2026.11.10", "2026.11.9", 1)]
    [InlineData("2026.11", "2026.11.0", 0)]
    [InlineData("v1.29.3+k3s1", "1.29.3+k3s1", 0)]
    [InlineData("1.29.3+k3s2", "1.29.3+k3s10", -1)]
    [InlineData("5.15.0-rc1", "5.15.0-rc2", -1)]
    [InlineData("2027.1", "2026.12.31", 1)]
    public void ComponentVersion_Compare_NumbersAsNumbers(string left, string right, int expected) =>
        Assert.Equal(expected, ComponentVersion.Compare(left, right));

    [Theory]
    [InlineData(">=2026.11", "2026.11.2", true)]
    [InlineData(">=2026.11", "2026.10.9", false)]
    [InlineData(">2026.11", "2026.11", false)]
    [InlineData("<2027", "2026.12.1", true)]
    [InlineData("<=2026.11.2", "2026.11.2", true)]
    [InlineData("=2026.11.2", "2026.11.2", true)]
    [InlineData("2026.11.2", "2026.11.3", false)]
    [InlineData(">= 2026.11", "2026.11", true)]
    public void VersionConstraint_IsSatisfiedBy(string constraint, string version, bool expected)
    {
        Assert.True(VersionConstraint.TryParse(constraint, out var parsed));
        Assert.Equal(expected, parsed!.IsSatisfiedBy(version));
    }

    [Fact]
    public void VersionConstraint_UnknownVersion_SatisfiesNothing()
    {
        Assert.True(VersionConstraint.TryParse("<9999", out var parsed));
        Assert.False(parsed!.IsSatisfiedBy(null));
    }

    [Theory]
    [InlineData("")]
    [InlineData(">=")]
    [InlineData("=>2026")]
    [InlineData(">=1 <2")]
    public void VersionConstraint_TryParse_RejectsWhatItCannotCompare(string text) => Assert.False(VersionConstraint.TryParse(text, out _));

    [Fact]
    public void Load_PlanWithChecksAndDownload_AndAWorkloadRequirement_AreRead()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("edge-1");
        fleet.Workload("vision", "requires: {component: os, version: \">=2026.11\"}");
        fleet.Write("upgrades/os.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: UpgradePlan
            metadata:
              name: os
            spec:
              component: os
              version: "2026.11.2"
              artifact:
                url: https://artifacts.example/os.raucb
                digest: sha256:7cf67c6978642393cd1d4cd5c28b9315c5d9b2e26a6afc13fb18244eb0a5aa98
              download: {maxKbps: 2000, retries: 9}
              slots: {backend: command}
              healthChecks:
                - {name: web, http: {url: "http://127.0.0.1:8080/healthz", expectStatus: 204}, timeout: 90s}
                - {name: node, kubernetes: {nodeReady: true, workloadsHealthy: true}}
                - {name: probe, exec: {command: [/usr/bin/probe, --quick]}}
              commitAfter: 2m
            """);

        var result = TestFleets.Load(fleet);

        Assert.DoesNotContain(result.Diagnostics, d => d.IsError);
        var plan = Assert.Single(result.Fleet.UpgradePlans);
        Assert.Equal((2000L, 9), (plan.Download!.MaxKbps!.Value, plan.Download.Retries));
        Assert.Equal("command", plan.Slots.Backend);
        Assert.Equal(("http", "http://127.0.0.1:8080/healthz", 204, TimeSpan.FromSeconds(90)), (plan.HealthChecks[0].Type, plan.HealthChecks[0].Url, plan.HealthChecks[0].ExpectStatus, plan.HealthChecks[0].Timeout));
        Assert.True(plan.HealthChecks[1].NodeReady && plan.HealthChecks[1].WorkloadsHealthy);
        Assert.Equal(new[] { "/usr/bin/probe", "--quick" }, plan.HealthChecks[2].Command.AsEnumerable());
        var requirement = result.Fleet.Workloads.Single().Requires!;
        Assert.Equal((UpgradeComponent.Os, ">=2026.11"), (requirement.Component, requirement.Version.ToString()));
    }
}

using System.Diagnostics;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Policy.Testing;
using EdgeOps.Tests;

namespace EdgeOps.Policy.Tests.Testing;

/// <summary><c>edgeops test</c>: confined to its folder (no links out, no FIFOs), policies by declared name, expectations checked.</summary>
public sealed class PolicyTestRunnerTests : IDisposable
{
    private readonly TempFleet _folder = new(withFleet: false);

    private const string Test = """
        apiVersion: edgeops.io/v1alpha1
        kind: PolicyTest
        metadata: {name: t}
        spec:
          policies: [pod-security-baseline]
          resources: [RESOURCE]
          expect: [{object: Pod/p, policy: pod-security-baseline, result: pass}]
        """;

    [Theory]
    [InlineData("../../../../../../etc/passwd", "outside")]
    [InlineData("/etc/passwd", "absolute path")]
    [InlineData("missing.yaml", "does not exist")]
    public void Resource_OutsideTheFolderOrMissing_IsALocatedErrorAndNothingIsRead(string resource, string message)
    {
        _folder.Write("tests/t.yaml", Test.Replace("RESOURCE", resource, StringComparison.Ordinal));

        var report = new PolicyTestRunner().Run(_folder.Root);

        var error = Assert.Single(report.Diagnostics, d => d.IsError && d.Message.Contains("resource file", StringComparison.Ordinal));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(6, error.Location.Line);
        Assert.DoesNotContain(report.Diagnostics, d => d.Message.Contains("root:", StringComparison.Ordinal));
    }

    [Fact]
    public void LinkedFolders_AreNotFollowed_SoALoopCannotHangTheRun()
    {
        _folder.Write("tests/t.yaml", Test.Replace("RESOURCE", "pod.yaml", StringComparison.Ordinal));
        _folder.Write("tests/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: busybox}]}\n");
        _folder.Symlink("tests/loop", "..");
        _folder.Symlink("outside", "/etc");

        var report = new PolicyTestRunner().Run(_folder.Root);

        var only = Assert.Single(report.Cases);
        Assert.True(only.Passed, only.Failure);
    }

    [Fact]
    public async Task FifoResource_IsRefusedInsteadOfHanging()
    {
        _folder.Write("tests/t.yaml", Test.Replace("RESOURCE", "pipe.yaml", StringComparison.Ordinal));
        using (var mkfifo = Process.Start("mkfifo", Path.Combine(_folder.Root, "tests", "pipe.yaml")))
        {
            await mkfifo.WaitForExitAsync();
        }

        var report = await Task.Run(() => new PolicyTestRunner().Run(_folder.Root)).WaitAsync(TimeSpan.FromSeconds(20));

        var error = Assert.Single(report.Diagnostics, d => d.IsError && d.Message.Contains("resource file", StringComparison.Ordinal));
        Assert.Contains("FIFO", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Policies_AreFoundByTheNameTheyDeclare_NotByTheirFileName()
    {
        _folder.Write("no-latest-tag.js", """
            export const policy = { name: "image-tags", severity: "error", controls: ["latest"] };
            export function validate(o) { return o.spec.containers.some(c => c.image.endsWith(":latest")) ? { message: "pin the tag", control: "latest" } : []; }
            """);
        _folder.Write("tests/t.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: PolicyTest
            metadata: {name: by-name}
            spec:
              policies: [image-tags]
              objects:
                - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: "busybox:latest"}]}}
              expect: [{object: Pod/p, policy: image-tags, control: latest, result: fail}]
            """);

        var report = new PolicyTestRunner().Run(_folder.Root);

        Assert.Empty(report.Diagnostics);
        Assert.True(Assert.Single(report.Cases).Passed);
    }

    [Fact]
    public void Expectation_NamingAControlThePolicyDoesNotHave_Fails()
    {
        _folder.Write("tests/t.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: PolicyTest
            metadata: {name: typo}
            spec:
              policies: [pod-security-baseline]
              objects:
                - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: busybox}]}}
              expect: [{object: Pod/p, policy: pod-security-baseline, control: privilegd, result: pass}]
            """);

        var report = new PolicyTestRunner().Run(_folder.Root);

        var error = Assert.Single(report.Diagnostics, d => d.IsError);
        Assert.Contains("has no control 'privilegd'", error.Message, StringComparison.Ordinal);
        Assert.Equal(8, error.Location.Line);
        Assert.False(Assert.Single(report.Cases).Passed);
    }

    [Theory]
    [InlineData("kind: PolicyTest\n: : :\n", "mapping values are not allowed")]
    [InlineData("kind: PolicyTest\nspec: [unclosed\n", "")]
    public void TestFile_ThatIsNotValidYaml_IsAFailedCase_NotAnUncountedOne(string text, string message)
    {
        _folder.Write("tests/good.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: PolicyTest
            metadata: {name: good}
            spec:
              policies: [pod-security-baseline]
              objects:
                - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: busybox}]}}
              expect: [{object: Pod/p, policy: pod-security-baseline, result: pass}]
            """);
        _folder.Write("tests/broken.yaml", text);

        var report = new PolicyTestRunner().Run(_folder.Root);

        Assert.Contains(report.Diagnostics, d => d.IsError && d.Location.Path.EndsWith("broken.yaml", StringComparison.Ordinal) && d.Message.Contains(message, StringComparison.Ordinal));
        var broken = Assert.Single(report.Cases, c => !c.Passed);
        Assert.EndsWith("broken.yaml", broken.Suite, StringComparison.Ordinal);
        Assert.Equal("the file cannot be read as YAML (see above)", broken.Failure);
        Assert.Single(report.Cases, c => c.Passed && c.Suite == "good");
    }

    public void Dispose() => _folder.Dispose();
}

using System.Text.Json;
using System.Xml.Linq;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Commands;

/// <summary><c>edgeops check</c> takes what people pipe into it: folders, standard input, Lists and JSON arrays.</summary>
public sealed class CheckInputTests : IDisposable
{
    private const string Privileged = "apiVersion: v1\nkind: Pod\nmetadata: {name: root}\nspec:\n  containers: [{name: c, image: busybox, securityContext: {privileged: true}}]\n";
    private const string Plain = "apiVersion: v1\nkind: Pod\nmetadata: {name: plain}\nspec:\n  containers: [{name: c, image: busybox}]\n";

    private readonly TempFleet _dir = new(withFleet: false);

    [Fact]
    public async Task Folder_IsSearchedRecursively_InNameOrder()
    {
        _dir.Write("m/a.yaml", Plain);
        _dir.Write("m/deep/b.yml", Privileged);
        _dir.Write("m/deep/c.json", "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"cm\"}}");
        _dir.Write("m/notes.txt", "not a manifest");

        var result = await CliRunner.RunAsync("check", "-b", "pod-security-baseline", Path.Combine(_dir.Root, "m"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("3 objects", result.Out, StringComparison.Ordinal);
        Assert.Matches(System.Text.RegularExpressions.Regex.Escape(Path.Combine(_dir.Root, "m", "deep", "b.yml")) + @":5:\d+: error EO6001: pod-security-baseline/privileged", result.Out);
    }

    [Fact]
    public async Task StandardInput_IsRead_AsHelmTemplateOutputIsPiped()
    {
        var result = await CliRunner.RunWithInputAsync(Plain + "---\n" + Privileged, "check", "-b", "pod-security-baseline", "-");

        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"<stdin>:11:\d+: error EO6001: pod-security-baseline/privileged", result.Out);
    }

    [Fact]
    public async Task ListsJsonArraysAndGenerateName_AreObjects()
    {
        _dir.Write("list.yaml", "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {generateName: job-}\n    spec: {hostPID: true, containers: [{name: c, image: busybox}]}\n");
        _dir.Write("array.json", "[{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}, {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"b\"}}]");

        var result = await CliRunner.RunAsync("check", "-b", "pod-security-baseline", "-o", "json", Path.Combine(_dir.Root, "list.yaml"), Path.Combine(_dir.Root, "array.json"));

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var names = json.RootElement.GetProperty("objects").EnumerateArray().Select(o => o.GetProperty("name").GetString()).ToList();
        Assert.Equal(["job-*", "a", "b"], names);
        Assert.Contains("hostNamespaces", json.RootElement.GetProperty("objects")[0].GetProperty("violations")[0].GetProperty("control").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneUnreadableDocument_IsALocatedError_AndTheRestIsStillChecked()
    {
        _dir.Write("mixed.yaml", Privileged + "---\napiVersion: v1\nkind: Pod\nmetadata: {}\n---\n" + Plain);
        _dir.Write("tab.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n\tk: v\n");

        var result = await CliRunner.RunAsync("check", "-b", "pod-security-baseline", Path.Combine(_dir.Root, "mixed.yaml"), Path.Combine(_dir.Root, "tab.yaml"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("mixed.yaml:7:1: error EO4003", result.Error, StringComparison.Ordinal);
        Assert.Contains("tab.yaml:6:1: error EO1002", result.Error, StringComparison.Ordinal);
        Assert.Matches(@"mixed\.yaml:5:\d+: error EO6001: pod-security-baseline/privileged", result.Out);
        Assert.Contains("2 objects", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GitHubJUnitAndSarif_CarryTheSameFindings_WithTheSameExitCode()
    {
        _dir.Write("m.yaml", Privileged + "---\n" + Plain);
        var file = Path.Combine(_dir.Root, "m.yaml");

        var github = await CliRunner.RunAsync("check", "-b", "pod-security-baseline", "-o", "github", file);
        var junit = await CliRunner.RunAsync("check", "-b", "pod-security-baseline", "-o", "junit", file);
        var sarif = await CliRunner.RunAsync("check", "-b", "pod-security-baseline", "-o", "sarif", file);

        Assert.Equal((1, 1, 1), (github.ExitCode, junit.ExitCode, sarif.ExitCode));
        Assert.Matches("^::error file=" + System.Text.RegularExpressions.Regex.Escape(file) + @",line=5,col=\d+,title=pod-security-baseline/privileged::EO6001: ", github.Out.Split('\n').First(l => l.Contains("privileged", StringComparison.Ordinal)));
        var suite = XDocument.Parse(junit.Out).Root!.Elements("testsuite").Single(s => (string?)s.Attribute("name") == "pod-security-baseline");
        Assert.Equal(("2", "1"), ((string?)suite.Attribute("tests"), (string?)suite.Attribute("failures")));
        using var report = JsonDocument.Parse(sarif.Out);
        var results = report.RootElement.GetProperty("runs")[0].GetProperty("results");
        Assert.Contains(results.EnumerateArray(), r => r.GetProperty("ruleId").GetString() == "pod-security-baseline/privileged");
    }

    [Fact]
    public async Task MergeKeys_AreReadAsKubernetesReadsThem()
    {
        _dir.Write("merge.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: merged\n  labels: &shared {hostPID: true}\nspec:\n  <<: *shared\n  containers: [{name: c, image: busybox}]\n");

        var result = await CliRunner.RunAsync("check", "-b", "pod-security-baseline", Path.Combine(_dir.Root, "merge.yaml"));

        Assert.Contains("pod-security-baseline/hostNamespaces", result.Out, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}

using System.Diagnostics;
using EdgeOps.Reconciler.Source;

namespace EdgeOps.Reconciler.Tests.Source;

public sealed class BranchNamesTests
{
    public static TheoryData<string> Names() =>
    [
        "main", "release/2026-11", "feature/a.b", "v1.2.3", "a-b_c", "ünïcode", "x@y", "a/b/c",
        "a..b", "a/.b", ".a", "a.lock", "a/b.lock/c", "a.", "a/", "/a", "a//b", "a@{1}",
        "a b", "a~1", "a^", "a:b", "a?", "a*", "a[1]", "a\\b", "a\tb", "a\u007fb", "-a", "a.lock.b",
    ];

    [Theory]
    [MemberData(nameof(Names))]
    public void Check_AgreesWithGitCheckRefFormat(string name)
    {
        var ours = BranchNames.Check(name);

        Assert.Equal(GitAccepts(name), ours is null);
    }

    [Fact]
    public void Check_SaysWhy()
    {
        Assert.Equal("holds '..'", BranchNames.Check("a..b"));
        Assert.Equal("has a part that ends with '.lock' ('b.lock')", BranchNames.Check("a/b.lock"));
        Assert.Equal("holds ':' (git refuses space, ~ ^ : ? * [ and \\ in branch names)", BranchNames.Check("a:b"));
        Assert.Equal("is empty", BranchNames.Check(string.Empty));

        // git check-ref-format --branch takes "@" for HEAD and names the branch checked out; as a branch to follow it is no name.
        Assert.Equal("is '@', which git reserves", BranchNames.Check("@"));
    }

    private static bool GitAccepts(string name)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        start.ArgumentList.Add("check-ref-format");
        start.ArgumentList.Add("--branch");
        start.ArgumentList.Add(name);
        using var git = Process.Start(start)!;
        git.StandardOutput.ReadToEnd();
        git.StandardError.ReadToEnd();
        git.WaitForExit();
        return git.ExitCode == 0;
    }
}

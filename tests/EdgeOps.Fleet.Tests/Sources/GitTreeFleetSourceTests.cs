using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Sources;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Sources;

public sealed class GitTreeFleetSourceTests
{
    [Fact]
    public void Open_Revision_ReadsThatCommitsTreeNotTheWorkTree()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        var first = fleet.Commit("one cluster");
        fleet.Cluster("b");
        fleet.Commit("two clusters");
        fleet.Cluster("c"); // uncommitted

        using var atFirst = GitTreeFleetSource.Open(fleet.Root, first);
        using var atHead = GitTreeFleetSource.Open(fleet.Root, "HEAD");
        var loader = new FleetLoader();

        Assert.Equal(["a"], loader.Load(atFirst).Fleet.Clusters.Select(c => c.Name));
        Assert.Equal(["a", "b"], loader.Load(atHead).Fleet.Clusters.Select(c => c.Name));
        Assert.Equal(first, atFirst.Revision);
        Assert.Equal(first, loader.Load(atFirst).Fleet.Revision);
    }

    [Fact]
    public void Open_SubFolderOfARepository_RootsTheFleetThere()
    {
        using var repo = new TempFleet(withFleet: false);
        repo.Write("deploy/fleet/fleet.yaml", TempFleet.FleetYaml);
        repo.Write("deploy/fleet/clusters/x.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: x\n");
        repo.Write("README.md", "not part of the fleet");
        repo.Commit("fleet in a sub-folder");

        using var source = GitTreeFleetSource.Open(Path.Combine(repo.Root, "deploy", "fleet"), "HEAD");
        var result = new FleetLoader().Load(source);

        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        Assert.Equal("x", result.Fleet.Clusters.Single().Name);
        Assert.Equal("clusters/x.yaml", result.Fleet.Clusters.Single().Location.Path);
    }

    [Fact]
    public void Open_CommittedSymlinkLeavingTheRepo_IsReported()
    {
        using var fleet = new TempFleet();
        fleet.Symlink("clusters/passwd.yaml", "../../../../etc/passwd");
        fleet.Commit("sneaky link");

        using var source = GitTreeFleetSource.Open(fleet.Root, "HEAD");
        var result = new FleetLoader().Load(source);

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(Codes.SymlinkOutsideRepo, d.Code);
        Assert.Equal("clusters/passwd.yaml", d.Location.Path);
    }

    [Fact]
    public void Open_UnknownRevision_ThrowsAFleetSourceException()
    {
        using var fleet = new TempFleet();
        fleet.Commit("init");

        var ex = Assert.Throws<FleetSourceException>(() => GitTreeFleetSource.Open(fleet.Root, "no-such-branch"));
        Assert.Contains("no-such-branch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_FolderOutsideAnyRepository_ThrowsAFleetSourceException()
    {
        using var fleet = new TempFleet();
        Assert.Throws<FleetSourceException>(() => GitTreeFleetSource.Open(fleet.Root, "HEAD"));
    }

    [Fact]
    public void OpenLazily_LooksFilesUpWithoutListingTheTree_AndListsItOnlyWhenAsked()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("app");
        fleet.Commit("fleet");
        // A branch of the tree too deep to list: a lazy source reads the rest without ever walking it.
        using (var repository = new LibGit2Sharp.Repository(fleet.Root))
        {
            var blob = repository.ObjectDatabase.CreateBlob(new MemoryStream("x"u8.ToArray()));
            var tree = repository.ObjectDatabase.CreateTree(new LibGit2Sharp.TreeDefinition().Add("f", blob, LibGit2Sharp.Mode.NonExecutableFile));
            for (var i = 0; i < 100; i++)
            {
                tree = repository.ObjectDatabase.CreateTree(new LibGit2Sharp.TreeDefinition().Add("d", tree));
            }

            var head = repository.Head.Tip;
            var signature = new LibGit2Sharp.Signature("t", "t@example.invalid", DateTimeOffset.UnixEpoch);
            var root = repository.ObjectDatabase.CreateTree(LibGit2Sharp.TreeDefinition.From(head.Tree).Add("deep", tree));
            var commit = repository.ObjectDatabase.CreateCommit(signature, signature, "deep", root, [head], false);
            repository.Refs.UpdateTarget(repository.Refs.Head.ResolveToDirectReference(), commit.Id);
        }

        Assert.Throws<FleetSourceException>(() => GitTreeFleetSource.Open(fleet.Root, "HEAD").Dispose());
        using var lazy = GitTreeFleetSource.Open(fleet.Root, "HEAD", lazy: true);

        Assert.True(lazy.Entries.TryGetValue("clusters/a.yaml", out var file));
        Assert.Equal(FleetEntryKind.File, file.Kind);
        Assert.Contains("name: a", System.Text.Encoding.UTF8.GetString(lazy.ReadAllBytes("clusters/a.yaml")), StringComparison.Ordinal);
        Assert.False(lazy.Entries.ContainsKey("clusters/missing.yaml"));
        Assert.False(lazy.Entries.ContainsKey(".git/config"));
        var under = lazy.EntriesUnder("workloads/app/").Select(e => e.Path).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("workloads/app/workload.yaml", under);
        Assert.All(under, p => Assert.StartsWith("workloads/app/", p, StringComparison.Ordinal));
        Assert.NotEmpty(lazy.ReadAllBytes(under.First(p => p.EndsWith(".yaml", StringComparison.Ordinal))));

        var listing = Assert.Throws<FleetSourceException>(() => lazy.Entries.Count);
        Assert.Contains("nested more than 64 folders deep", listing.Message, StringComparison.Ordinal);
    }
}

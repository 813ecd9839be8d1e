using System.Diagnostics;
using System.Text;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Tests;
using LibGit2Sharp;

namespace EdgeOps.Fleet.Tests.Validation;

/// <summary>
/// Small inputs that would cost gigabytes or hang a reader: each is refused with a located error, in
/// bounded memory, and the run goes on.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly TempFleet _fleet = new();

    private IReadOnlyList<Diagnostic> Validate()
    {
        using var source = new DirectoryFleetSource(_fleet.Root);
        return new FleetValidator().Validate(source).Diagnostics;
    }

    private static long Allocated(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void LargeAnchoredScalar_RepeatedByAliases_IsRefusedAtTheCrossingAlias()
    {
        var text = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  big: &big \"");
        text.Append('x', 100_000).Append("\"\n  all: [");
        for (var i = 0; i < 12_000; i++)
        {
            text.Append(i == 0 ? "*big" : ", *big");
        }

        text.Append("]\n");
        _fleet.Cluster("a");
        _fleet.Workload("app", manifest: text.ToString());
        IReadOnlyList<Diagnostic> diagnostics = [];

        var allocated = Allocated(() => diagnostics = Validate());

        var error = Assert.Single(diagnostics, d => d.Code == Codes.AliasLimit);
        Assert.Equal("workloads/app/manifest.yaml", error.Location.Path);
        Assert.Equal(6, error.Location.Line);
        Assert.Contains("characters of text through aliases", error.Message, StringComparison.Ordinal);
        Assert.True(allocated < 256L * 1024 * 1024, $"allocated {allocated:N0} bytes");
    }

    [Fact]
    public void LargeValue_SubstitutedManyTimes_IsRefusedAtTheObject()
    {
        var values = new StringBuilder("values:\n  big:\n");
        for (var i = 0; i < 20_000; i++)
        {
            values.Append("    - ").Append(i).Append('\n');
        }

        var manifest = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: many}\ndata:\n");
        for (var i = 0; i < 150; i++)
        {
            manifest.Append("  k").Append(i).Append(": ${values.big}\n");
        }

        _fleet.Cluster("a");
        _fleet.Workload("app", values.ToString().TrimEnd('\n'), manifest.ToString());
        IReadOnlyList<Diagnostic> diagnostics = [];

        var allocated = Allocated(() => diagnostics = Validate());

        var error = Assert.Single(diagnostics, d => d.Code == Codes.ExpansionLimit);
        Assert.Equal(("workloads/app/manifest.yaml", 1), (error.Location.Path, error.Location.Line));
        Assert.Contains("ConfigMap many", error.Message, StringComparison.Ordinal);
        Assert.True(allocated < 512L * 1024 * 1024, $"allocated {allocated:N0} bytes");
    }

    [Fact]
    public void TextInterpolation_PastTheLimit_IsRefusedAtTheVariable()
    {
        _fleet.Cluster("a");
        _fleet.Workload("app", $"values: {{s: \"{new string('y', 100_000)}\"}}",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: long}\ndata:\n  k: \"" + string.Concat(Enumerable.Repeat("${values.s}", 20)) + "\"\n");

        var error = Assert.Single(Validate(), d => d.Code == Codes.ExpansionLimit);

        Assert.Equal("workloads/app/manifest.yaml", error.Location.Path);
        Assert.Contains("through variables", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonPatchCopyingAMapIntoItself_IsRefusedLongBeforeItGrows()
    {
        var ops = string.Concat(Enumerable.Range(0, 24).Select(i => $"\n          - {{op: copy, from: /data, path: /data/d{i}}}"));
        _fleet.Cluster("a");
        _fleet.Workload("app", $$"""
            overlays:
              - name: grow
                clusterSelector: {}
                patches:
                  - target: {kind: ConfigMap, name: seed}
                    json:{{ops}}
            """.Replace("\n", "\n", StringComparison.Ordinal), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: seed}\ndata: {k: v}\n");

        var error = Assert.Single(Validate(), d => d.Code == Codes.ExpansionLimit);

        Assert.Contains("ConfigMap seed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FoldersNestedTooDeep_AreRefused_OnDiskAndInAGitTree()
    {
        var deep = Path.Combine([_fleet.Root, .. Enumerable.Repeat("d", DirectoryFleetSource.MaxDepth + 5)]);
        Directory.CreateDirectory(deep);
        var disk = Assert.Throws<FleetSourceException>(() => new DirectoryFleetSource(_fleet.Root));
        Assert.Contains("nested more than 64 folders deep", disk.Message, StringComparison.Ordinal);
        Directory.Delete(Path.Combine(_fleet.Root, "d"), recursive: true);

        _fleet.Commit("first");
        using (var repository = new Repository(_fleet.Root))
        {
            var blob = repository.ObjectDatabase.CreateBlob(new MemoryStream("x"u8.ToArray()));
            var tree = repository.ObjectDatabase.CreateTree(new TreeDefinition().Add("f", blob, Mode.NonExecutableFile));
            for (var i = 0; i < 1_000; i++)
            {
                tree = repository.ObjectDatabase.CreateTree(new TreeDefinition().Add("d", tree));
            }

            var head = repository.Head.Tip;
            var root = TreeDefinition.From(head.Tree).Add("deep", tree);
            var signature = new Signature("t", "t@example.invalid", DateTimeOffset.UnixEpoch);
            var commit = repository.ObjectDatabase.CreateCommit(signature, signature, "deep", repository.ObjectDatabase.CreateTree(root), [head], false);
            repository.Refs.UpdateTarget(repository.Refs.Head.ResolveToDirectReference(), commit.Id);
        }

        var watch = Stopwatch.StartNew();
        var git = Assert.Throws<FleetSourceException>(() => GitTreeFleetSource.Open(_fleet.Root, "HEAD").Dispose());
        Assert.Contains("nested more than 64 folders deep", git.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void LinkToTheRepositoryRoot_IsALocatedError()
    {
        _fleet.Cluster("a");
        _fleet.Symlink("root", ".");
        _fleet.Workload("app", manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
        _fleet.Write("workloads/app/workload.yaml", "apiVersion: edgeops.io/v1alpha1\nkind: Workload\nmetadata: {name: app}\nspec:\n  manifests: [../../root/workloads/app/manifest.yaml]\n");

        var errors = Validate().Where(d => d.IsError).ToList();

        Assert.Contains(errors, d => d.Location.Path == "root" && d.Message.Contains("symbolic link to the repository root", StringComparison.Ordinal));
        Assert.Contains(errors, d => d.Location.Path == "workloads/app/workload.yaml" && d.Message.Contains("repository root", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FifoInTheFleet_IsRefusedInsteadOfHanging()
    {
        _fleet.Cluster("a");
        Assert.Equal(0, Run("mkfifo", Path.Combine(_fleet.Root, "clusters", "b.yaml")));

        var diagnostics = await Task.Run(Validate).WaitAsync(TimeSpan.FromSeconds(20));

        var error = Assert.Single(diagnostics, d => d.IsError);
        Assert.Equal(("clusters/b.yaml", Codes.IoError), (error.Location.Path, error.Code));
        Assert.Contains("FIFO", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnreadableFile_IsALocatedError()
    {
        var files = new FleetFiles(new Unreadable());
        var bag = new DiagnosticBag();

        Assert.Null(files.ReadText("clusters/a.yaml", bag));

        var error = Assert.Single(bag.ToSortedList());
        Assert.Equal(("clusters/a.yaml", Codes.IoError), (error.Location.Path, error.Code));
        Assert.Contains("Permission denied", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"robot-es-0001\\n\"")]
    [InlineData("\"robot-es-0001\\r\\n\"")]
    public void NameWithATrailingNewline_IsInvalid(string name)
    {
        _fleet.Write("clusters/a.yaml", $"apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n");

        Assert.Contains(Validate(), d => d.Code == Codes.InvalidName && d.Location.Line == 4);
        Assert.False(Names.IsDnsLabel("robot-es-0001\n"));
        Assert.NotNull(Names.CheckLabelValue("far\n"));
    }

    private static int Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args))!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private sealed class Unreadable : IFleetSource
    {
        public string DisplayName => "unreadable";

        public string? Revision => null;

        public IReadOnlyDictionary<string, FleetEntry> Entries { get; } = new Dictionary<string, FleetEntry>
        {
            ["clusters"] = new("clusters", FleetEntryKind.Directory, 0),
            ["clusters/a.yaml"] = new("clusters/a.yaml", FleetEntryKind.File, 10),
        };

        public bool SupportsConcurrentReads => true;

        public byte[] ReadAllBytes(string path) => throw new UnauthorizedAccessException($"Access to the path '{path}' is denied: Permission denied");

        public void Dispose()
        {
        }
    }

    public void Dispose() => _fleet.Dispose();
}

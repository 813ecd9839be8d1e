using LibGit2Sharp;

namespace EdgeOps.Fleet.Sources;

/// <summary>
/// A fleet read straight from a commit's tree in a local Git repository: no checkout, no work tree.
/// <c>edgeops validate --rev</c>, <c>edgeops diff</c> and the reconciler read fleets this way.
/// </summary>
public sealed class GitTreeFleetSource : IFleetSource
{
    private readonly Repository _repository;
    private readonly Dictionary<string, Blob> _blobs = new(StringComparer.Ordinal);

    private GitTreeFleetSource(Repository repository, Commit commit, Tree tree, string subPath)
    {
        _repository = repository;
        Revision = commit.Sha;
        DisplayName = subPath.Length == 0 ? $"{commit.Sha[..12]}" : $"{commit.Sha[..12]}:{subPath}";
        var entries = new Dictionary<string, FleetEntry>(StringComparer.Ordinal);
        Walk(tree, string.Empty, entries);
        Entries = entries;
    }

    public string DisplayName { get; }

    public string? Revision { get; }

    public IReadOnlyDictionary<string, FleetEntry> Entries { get; }

    public bool SupportsConcurrentReads => false;

    /// <summary>
    /// Opens the repository that contains <paramref name="path"/> and takes the fleet at
    /// <paramref name="revision"/> (any rev-parse expression), rooted at the same sub-folder.
    /// </summary>
    public static GitTreeFleetSource Open(string path, string revision)
    {
        var full = Path.GetFullPath(path);
        var gitDir = Discover(full)
            ?? throw new FleetSourceException($"'{path}' is not inside a Git repository");
        var repository = new Repository(gitDir);
        try
        {
            var workdir = repository.Info.WorkingDirectory;
            var subPath = workdir is null
                ? string.Empty
                : Path.GetRelativePath(workdir, full).Replace('\\', '/');
            if (subPath is "." || subPath.StartsWith("..", StringComparison.Ordinal))
            {
                subPath = string.Empty;
            }

            return FromRepository(repository, revision, subPath);
        }
        catch
        {
            repository.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The working folder of the Git repository holding <paramref name="path"/> (the nearest folder upwards with a
    /// <c>.git</c> folder or file), or null. Done here rather than by libgit2's discover, whose path marshalling
    /// fails in the NativeAOT build.
    /// </summary>
    public static string? Discover(string path)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(path)); dir is not null; dir = dir.Parent)
        {
            var marker = Path.Combine(dir.FullName, ".git");
            if (Directory.Exists(marker) || File.Exists(marker))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>Takes ownership of <paramref name="repository"/>.</summary>
    public static GitTreeFleetSource FromRepository(Repository repository, string revision, string subPath = "")
    {
        GitObject? target;
        try
        {
            target = repository.Lookup(revision);
        }
        catch (LibGit2SharpException)
        {
            target = null;
        }

        var commit = target?.Peel<Commit>()
            ?? throw new FleetSourceException($"revision '{revision}' does not name a commit");
        Tree tree = commit.Tree;
        if (subPath.Length > 0)
        {
            tree = commit[subPath]?.Target as Tree
                ?? throw new FleetSourceException($"'{subPath}' is not a folder at {commit.Sha[..12]}");
        }

        return new GitTreeFleetSource(repository, commit, tree, subPath);
    }

    public byte[] ReadAllBytes(string path)
    {
        var blob = _blobs[path];
        using var stream = blob.GetContentStream();
        using var buffer = new MemoryStream((int)blob.Size);
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    public string? ContentId(string path) => _blobs.TryGetValue(path, out var blob) ? blob.Sha : null;

    public void Dispose() => _repository.Dispose();

    private void Walk(Tree tree, string prefix, Dictionary<string, FleetEntry> entries, int depth = 0)
    {
        if (depth > DirectoryFleetSource.MaxDepth)
        {
            throw new FleetSourceException($"'{prefix[..Math.Min(prefix.Length, 120)]}…' is nested more than {DirectoryFleetSource.MaxDepth} folders deep; refused");
        }

        foreach (var entry in tree)
        {
            if (entry.Name.StartsWith('.'))
            {
                continue;
            }

            var path = prefix.Length == 0 ? entry.Name : prefix + "/" + entry.Name;
            switch (entry.Mode)
            {
                case Mode.Directory:
                    entries[path] = new FleetEntry(path, FleetEntryKind.Directory, 0);
                    Walk((Tree)entry.Target, path, entries, depth + 1);
                    break;
                case Mode.SymbolicLink:
                    var link = (Blob)entry.Target;
                    entries[path] = new FleetEntry(path, FleetEntryKind.Symlink, 0, link.GetContentText().Trim('\n'));
                    break;
                case Mode.NonExecutableFile or Mode.ExecutableFile or Mode.NonExecutableGroupWritableFile:
                    var blob = (Blob)entry.Target;
                    _blobs[path] = blob;
                    entries[path] = new FleetEntry(path, FleetEntryKind.File, blob.Size);
                    break;
                default:
                    // Submodules (gitlinks) carry no content of this repository.
                    break;
            }
        }
    }
}

using LibGit2Sharp;

namespace EdgeOps.Fleet.Sources;

/// <summary>
/// A fleet read straight from a commit's tree in a local Git repository: no checkout, no work tree.
/// <c>edgeops validate --rev</c>, <c>edgeops diff</c> and the reconciler read fleets this way.
/// </summary>
public sealed class GitTreeFleetSource : IFleetSource
{
    private readonly Repository _repository;
    private readonly Tree _tree;
    private readonly Dictionary<string, Blob> _blobs = new(StringComparer.Ordinal);

    private GitTreeFleetSource(Repository repository, Commit commit, Tree tree, string subPath, bool lazy)
    {
        _repository = repository;
        _tree = tree;
        Revision = commit.Sha;
        DisplayName = subPath.Length == 0 ? $"{commit.Sha[..12]}" : $"{commit.Sha[..12]}:{subPath}";
        Entries = new TreeEntries(this);
        if (!lazy)
        {
            // Walked now, so that a tree too deep to read fails where it is opened.
            _ = Entries.Count;
        }
    }

    public string DisplayName { get; }

    public string? Revision { get; }

    /// <summary>
    /// Every file, folder and symbolic link under the root. Opened lazily, the tree is walked whole the first time the
    /// entries are listed, and a lookup of one path before that reads only the folders on its way, so that reading a
    /// few files of an old revision (as <c>validate --changed-since</c> does) costs nothing like walking 50,000 of them.
    /// </summary>
    public IReadOnlyDictionary<string, FleetEntry> Entries { get; }

    public bool SupportsConcurrentReads => false;

    /// <summary>
    /// Opens the repository that contains <paramref name="path"/> and takes the fleet at
    /// <paramref name="revision"/> (any rev-parse expression), rooted at the same sub-folder.
    /// </summary>
    public static GitTreeFleetSource Open(string path, string revision, bool lazy = false)
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

            return FromRepository(repository, revision, subPath, lazy);
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

    /// <summary>
    /// The best common ancestor of two revisions (what <c>git diff A...B</c> compares B with), as a full commit id: for a
    /// branch, what it changes since it left the one it will merge into.
    /// </summary>
    public static string MergeBase(string path, string first, string second)
    {
        var gitDir = Discover(path) ?? throw new FleetSourceException($"'{path}' is not inside a Git repository");
        using var repository = new Repository(gitDir);
        Commit Resolve(string revision)
        {
            try
            {
                return repository.Lookup(revision)?.Peel<Commit>() ?? throw new FleetSourceException($"revision '{revision}' does not name a commit");
            }
            catch (LibGit2SharpException)
            {
                throw new FleetSourceException($"revision '{revision}' does not name a commit");
            }
        }

        var (a, b) = (Resolve(first), Resolve(second));
        return repository.ObjectDatabase.FindMergeBase(a, b)?.Sha
            ?? throw new FleetSourceException($"'{first}' and '{second}' have no common ancestor; compare them with {first}..{second}");
    }

    /// <summary>Takes ownership of <paramref name="repository"/>.</summary>
    public static GitTreeFleetSource FromRepository(Repository repository, string revision, string subPath = "", bool lazy = false)
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

        return new GitTreeFleetSource(repository, commit, tree, subPath, lazy);
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

    /// <summary>The entries below one folder, walking that folder only (the whole listing when it is made already).</summary>
    public IEnumerable<FleetEntry> EntriesUnder(string folder)
    {
        folder = folder.TrimEnd('/');
        if (((TreeEntries)Entries).IsListed || folder.Length == 0)
        {
            return Entries.Values.Where(e => folder.Length == 0 || e.Path.StartsWith(folder + "/", StringComparison.Ordinal));
        }

        if (!Entries.TryGetValue(folder, out var entry) || entry.Kind != FleetEntryKind.Directory || _tree[folder]?.Target is not Tree subtree)
        {
            return [];
        }

        var entries = new Dictionary<string, FleetEntry>(StringComparer.Ordinal);
        Walk(subtree, folder, entries, folder.Count(c => c == '/') + 1);
        return entries.Values;
    }

    private FleetEntry? Lookup(string path)
    {
        var segments = path.Split('/');
        if (segments.Length > DirectoryFleetSource.MaxDepth + 1 || segments.Any(s => s.Length == 0 || s.StartsWith('.')))
        {
            return null;
        }

        return _tree[path] is { } entry ? Entry(entry, path) : null;
    }

    private FleetEntry? Entry(TreeEntry entry, string path)
    {
        switch (entry.Mode)
        {
            case Mode.Directory:
                return new FleetEntry(path, FleetEntryKind.Directory, 0);
            case Mode.SymbolicLink:
                var link = (Blob)entry.Target;
                return new FleetEntry(path, FleetEntryKind.Symlink, 0, link.GetContentText().Trim('\n'));
            case Mode.NonExecutableFile or Mode.ExecutableFile or Mode.NonExecutableGroupWritableFile:
                var blob = (Blob)entry.Target;
                _blobs[path] = blob;
                return new FleetEntry(path, FleetEntryKind.File, blob.Size);
            default:
                // Submodules (gitlinks) carry no content of this repository.
                return null;
        }
    }

    /// <summary>The tree's entries: looked up one by one until they are listed, then walked whole, once.</summary>
    private sealed class TreeEntries(GitTreeFleetSource source) : IReadOnlyDictionary<string, FleetEntry>
    {
        private readonly Dictionary<string, FleetEntry?> _looked = new(StringComparer.Ordinal);
        private Dictionary<string, FleetEntry>? _all;

        public bool IsListed => _all is not null;

        private Dictionary<string, FleetEntry> All
        {
            get
            {
                if (_all is null)
                {
                    var entries = new Dictionary<string, FleetEntry>(StringComparer.Ordinal);
                    source.Walk(source._tree, string.Empty, entries);
                    _all = entries;
                }

                return _all;
            }
        }

        public FleetEntry this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"'{key}' is not in the tree");

        public IEnumerable<string> Keys => All.Keys;

        public IEnumerable<FleetEntry> Values => All.Values;

        public int Count => All.Count;

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out FleetEntry value)
        {
            if (_all is not null)
            {
                return _all.TryGetValue(key, out value);
            }

            if (!_looked.TryGetValue(key, out var found))
            {
                found = _looked[key] = source.Lookup(key);
            }

            value = found!;
            return found is not null;
        }

        public IEnumerator<KeyValuePair<string, FleetEntry>> GetEnumerator() => All.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

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
            if (Entry(entry, path) is not { } made)
            {
                continue;
            }

            entries[path] = made;
            if (made.Kind == FleetEntryKind.Directory)
            {
                Walk((Tree)entry.Target, path, entries, depth + 1);
            }
        }
    }
}

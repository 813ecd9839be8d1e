namespace EdgeOps.Fleet.Sources;

/// <summary>A fleet in a folder on disk. Hidden folders (such as .git) are not part of the fleet.</summary>
public sealed class DirectoryFleetSource : IFleetSource
{
    /// <summary>Folders deeper than this are refused: nothing in a fleet needs them, and walking them costs quadratic time.</summary>
    public const int MaxDepth = 64;

    private readonly string _root;

    public DirectoryFleetSource(string root)
    {
        _root = Path.GetFullPath(root);
        if (!Directory.Exists(_root))
        {
            throw new DirectoryNotFoundException($"fleet folder '{root}' does not exist");
        }

        DisplayName = root;
        var entries = new Dictionary<string, FleetEntry>(StringComparer.Ordinal);
        Walk(new DirectoryInfo(_root), string.Empty, entries, 0);
        Entries = entries;
    }

    public string DisplayName { get; }

    public string? Revision => null;

    public IReadOnlyDictionary<string, FleetEntry> Entries { get; }

    public bool SupportsConcurrentReads => true;

    public byte[] ReadAllBytes(string path) => File.ReadAllBytes(Path.Combine(_root, path));

    /// <summary>Git's SHA-1 blob ID of the file's bytes ("blob LENGTH\0" then the content).</summary>
    public string? ContentId(string path) => FleetChanges.GitBlobId(ReadAllBytes(path));

    public void Dispose()
    {
    }

    private static void Walk(DirectoryInfo dir, string prefix, Dictionary<string, FleetEntry> entries, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FleetSourceException($"'{prefix[..Math.Min(prefix.Length, 120)]}…' is nested more than {MaxDepth} folders deep; refused");
        }

        foreach (var info in dir.EnumerateFileSystemInfos())
        {
            if (info.Name.StartsWith('.'))
            {
                continue;
            }

            var path = prefix.Length == 0 ? info.Name : prefix + "/" + info.Name;
            if (info.LinkTarget is { } target)
            {
                entries[path] = new FleetEntry(path, FleetEntryKind.Symlink, 0, target);
            }
            else if (info is DirectoryInfo sub)
            {
                entries[path] = new FleetEntry(path, FleetEntryKind.Directory, 0);
                Walk(sub, path, entries, depth + 1);
            }
            else if (info is FileInfo file)
            {
                entries[path] = UnixFileType.IsRegularOrDirectory(file.FullName)
                    ? new FleetEntry(path, FleetEntryKind.File, file.Length)
                    : new FleetEntry(path, FleetEntryKind.Special, 0);
            }
        }
    }
}

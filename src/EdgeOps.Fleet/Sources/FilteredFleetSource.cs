namespace EdgeOps.Fleet.Sources;

/// <summary>A view of another source holding only the files a predicate admits (and the folders above them).</summary>
public sealed class FilteredFleetSource : IFleetSource
{
    private readonly IFleetSource _inner;

    public FilteredFleetSource(IFleetSource inner, Func<string, bool> admit)
    {
        _inner = inner;
        var entries = new Dictionary<string, FleetEntry>(StringComparer.Ordinal);
        foreach (var (path, entry) in inner.Entries)
        {
            if (entry.Kind != FleetEntryKind.Directory && admit(path))
            {
                Admit(entry, entries);
            }
        }

        Entries = entries;
    }

    /// <summary>Adds an entry and the folders above it.</summary>
    private void Admit(FleetEntry entry, Dictionary<string, FleetEntry> entries)
    {
        var path = entry.Path;
        entries[path] = entry;
        for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            var folder = path[..slash];
            if (!entries.TryAdd(folder, _inner.Entries.TryGetValue(folder, out var dir) ? dir : new FleetEntry(folder, FleetEntryKind.Directory, 0)))
            {
                break;
            }
        }
    }

    /// <summary>
    /// A view holding the named files and everything under the named folders, found by looking each up (and listing
    /// each folder) rather than by listing the whole of <paramref name="inner"/>.
    /// </summary>
    public FilteredFleetSource(IFleetSource inner, IEnumerable<string> files, IEnumerable<string> folders)
    {
        _inner = inner;
        var entries = new Dictionary<string, FleetEntry>(StringComparer.Ordinal);
        var admitted = files.Where(f => inner.Entries.TryGetValue(f, out var e) && e.Kind != FleetEntryKind.Directory)
            .Select(f => inner.Entries[f])
            .Concat(folders.SelectMany(f => inner is GitTreeFleetSource git
                ? git.EntriesUnder(f)
                : inner.Entries.Values.Where(e => e.Path.StartsWith(f, StringComparison.Ordinal))))
            .Where(e => e.Kind != FleetEntryKind.Directory);
        foreach (var entry in admitted)
        {
            Admit(entry, entries);
        }

        Entries = entries;
    }

    public string DisplayName => _inner.DisplayName;

    public string? Revision => _inner.Revision;

    public IReadOnlyDictionary<string, FleetEntry> Entries { get; }

    public bool SupportsConcurrentReads => _inner.SupportsConcurrentReads;

    public byte[] ReadAllBytes(string path) => _inner.ReadAllBytes(path);

    public string? ContentId(string path) => _inner.ContentId(path);

    /// <summary>The wrapped source belongs to the caller.</summary>
    public void Dispose()
    {
    }
}

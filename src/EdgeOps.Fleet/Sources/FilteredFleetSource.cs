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
                entries[path] = entry;
                for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
                {
                    var folder = path[..slash];
                    if (!entries.TryAdd(folder, inner.Entries.TryGetValue(folder, out var dir) ? dir : new FleetEntry(folder, FleetEntryKind.Directory, 0)))
                    {
                        break;
                    }
                }
            }
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

namespace EdgeOps.Fleet.Sources;

public enum FleetEntryKind
{
    File,
    Directory,
    Symlink,

    /// <summary>A FIFO, socket or device: never read (a FIFO would block the reader for ever).</summary>
    Special,
}

/// <summary>One entry of a fleet tree. Paths are relative to the fleet root, with forward slashes.</summary>
public sealed record FleetEntry(string Path, FleetEntryKind Kind, long Size, string? LinkTarget = null);

/// <summary>
/// A read-only tree of files holding a fleet: a folder on disk or a Git commit's tree. The loader
/// only ever sees this interface, so the CLI, the CI check and the reconciler share one loader.
/// </summary>
public interface IFleetSource : IDisposable
{
    /// <summary>What to call the source in messages: a folder, or a repository and revision.</summary>
    string DisplayName { get; }

    /// <summary>The commit the tree came from, or null for a folder.</summary>
    string? Revision { get; }

    /// <summary>Every file, folder and symbolic link under the root, keyed by path.</summary>
    IReadOnlyDictionary<string, FleetEntry> Entries { get; }

    /// <summary>Whether <see cref="ReadAllBytes"/> may be called from several threads at once.</summary>
    bool SupportsConcurrentReads { get; }

    /// <summary>The content of a <see cref="FleetEntryKind.File"/> entry.</summary>
    byte[] ReadAllBytes(string path);

    /// <summary>
    /// The Git object ID of a file's content (its blob ID in a Git tree, or what Git would give the file's
    /// bytes), so that two trees can be compared without reading both sides; null where there is none.
    /// </summary>
    string? ContentId(string path) => null;
}

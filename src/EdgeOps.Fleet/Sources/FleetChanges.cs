using System.Security.Cryptography;
using System.Text;

namespace EdgeOps.Fleet.Sources;

/// <summary>The files that differ between two trees of a fleet: added, removed or with other content.</summary>
public static class FleetChanges
{
    public static IReadOnlySet<string> Between(IFleetSource before, IFleetSource after)
    {
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (path, entry) in after.Entries)
        {
            if (entry.Kind == FleetEntryKind.Directory)
            {
                continue;
            }

            if (!before.Entries.TryGetValue(path, out var old) || old.Kind != entry.Kind || !SameContent(before, after, entry, old))
            {
                changed.Add(path);
            }
        }

        foreach (var (path, entry) in before.Entries)
        {
            if (entry.Kind != FleetEntryKind.Directory && !after.Entries.ContainsKey(path))
            {
                changed.Add(path);
            }
        }

        return changed;
    }

    private static bool SameContent(IFleetSource before, IFleetSource after, FleetEntry entry, FleetEntry old)
    {
        switch (entry.Kind)
        {
            case FleetEntryKind.Symlink:
                return entry.LinkTarget == old.LinkTarget;
            case FleetEntryKind.File when entry.Size != old.Size:
                return false;
            case FleetEntryKind.File:
                var (a, b) = (before.ContentId(entry.Path), after.ContentId(entry.Path));
                return a is not null && b is not null && a.Length == b.Length
                    ? string.Equals(a, b, StringComparison.OrdinalIgnoreCase)
                    : before.ReadAllBytes(entry.Path).AsSpan().SequenceEqual(after.ReadAllBytes(entry.Path));
            default:
                return true;
        }
    }

    /// <summary>The ID Git gives a blob with this content in a SHA-1 repository.</summary>
    public static string GitBlobId(ReadOnlySpan<byte> content)
    {
        var header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        hash.AppendData(header);
        hash.AppendData(content);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}

using System.Globalization;
using System.Runtime.InteropServices;

namespace EdgeOps.Reconciler.Hosting;

/// <summary>
/// What the agent gives back while it waits for its next pass, which is nearly all the time. A full,
/// compacting collection in the GC's aggressive mode returns the regions a pass grew into, and malloc_trim
/// the free pages of the native heap. Then every page
/// the process maps from a file and holds exactly as the file has it (the binary's code and read-only data,
/// libgit2's and OpenSSL's, pack files libgit2 maps) is dropped from the process with MADV_DONTNEED: the page
/// stays in the kernel's page cache, and the next pass that touches it maps it back with a minor fault.
/// Those pages were reclaimable anyway; this makes the resident set say so. A mapping that was ever
/// written, or may be (writable, or holding an anonymous copy of any page, as relocated read-only data
/// does), is never touched.
/// </summary>
internal static partial class IdleMemory
{
    private const int MadviseDontNeed = 4;

    /// <summary>Returns free GC memory and clean file-backed pages; returns the kibibytes of mappings released.</summary>
    public static long Release()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        TrimNativeHeap();
        return ReleaseCleanFilePages();
    }

    /// <summary>Free pages inside glibc's malloc arenas (libgit2's, OpenSSL's, the runtime's own) go back to the kernel.</summary>
    private static void TrimNativeHeap()
    {
        try
        {
            _ = MallocTrim(0); // 1 if memory went back, 0 if there was none to give
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no malloc_trim): nothing to do.
        }
    }

    private static long ReleaseCleanFilePages()
    {
        var released = 0L;
        Mapping? current = null;
        IEnumerable<string> lines;
        try
        {
            lines = File.ReadAllLines("/proc/self/smaps");
        }
        catch (IOException)
        {
            return 0;
        }

        foreach (var line in lines)
        {
            if (Mapping.TryParse(line) is { } header)
            {
                released += current?.Release() ?? 0;
                current = header;
            }
            else if (current is not null && line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                current.Anonymous = Kibibytes(line);
            }
            else if (current is not null && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                current.Resident = Kibibytes(line);
            }
            else if (current is not null && line.StartsWith("Locked:", StringComparison.Ordinal))
            {
                current.Locked = Kibibytes(line);
            }
        }

        return released + (current?.Release() ?? 0);
    }

    private static long Kibibytes(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : long.MaxValue;
    }

    /// <summary>One mapping of /proc/self/smaps: "start-end perms offset dev inode path".</summary>
    private sealed class Mapping(ulong start, ulong end, bool candidate)
    {
        public long Anonymous { get; set; } = long.MaxValue;

        public long Resident { get; set; }

        public long Locked { get; set; } = long.MaxValue;

        /// <summary>
        /// A header line, or null. A candidate maps a file (a path and an inode), privately or shared, and cannot be
        /// written; whether it ever was is read from its Anonymous line.
        /// </summary>
        public static Mapping? TryParse(string line)
        {
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            var dash = fields.Length < 5 ? -1 : fields[0].IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || fields[1].Length != 4)
            {
                return null;
            }

            if (!ulong.TryParse(fields[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                || !ulong.TryParse(fields[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end))
            {
                return null;
            }

            var perms = fields[1];
            var path = fields.Length > 5 ? fields[5].Trim() : string.Empty;
            var candidate = perms[0] == 'r' && perms[1] == '-' && fields[4] != "0" && path.StartsWith('/') && !path.EndsWith(" (deleted)", StringComparison.Ordinal);
            return new Mapping(start, end, candidate);
        }

        public long Release()
        {
            if (!candidate || Anonymous != 0 || Locked != 0 || Resident == 0 || end <= start)
            {
                return 0;
            }

            return Madvise((nint)start, (nuint)(end - start), MadviseDontNeed) == 0 ? Resident : 0;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}

using System.Runtime.InteropServices;

namespace EdgeOps.Reconciler.Transactions;

/// <summary>
/// Writes that survive power loss: the new content goes to a temporary file that is flushed to disk,
/// renamed over the old one, and the folder itself is flushed so the rename is durable. A reader sees
/// the old content or the new, never a mixture.
/// </summary>
public static partial class DurableFile
{
    // O_RDONLY alone: a folder opens read-only without O_DIRECTORY, whose value differs between
    // architectures (0x10000 on x86-64, 0x4000 on arm64).
    private const int ReadOnly = 0;

    /// <summary>
    /// Why a file written here cannot be read back, for the person who must look at it: where in the file, without the
    /// serializer's type names. Writes are atomic, so such damage came from outside (a disk fault, an edit by hand).
    /// </summary>
    public static InvalidDataException Damaged(string what, string path, System.Text.Json.JsonException ex) =>
        new($"the {what} {path} is damaged ({Fleet.Diagnostics.JsonErrors.Describe(ex)}): it is not what EdgeOps writes there (its writes are atomic, so something else changed it); the agent will not guess what it held", ex);

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        System.IO.Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            FlushDirectory(folder);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    public static void Delete(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
            FlushDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
    }

    /// <summary>Flushes a folder's entries (renames, deletions) to disk; a no-op where the platform has no such call.</summary>
    public static void FlushDirectory(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        var fd = Open(folder, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"cannot open {folder} to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"cannot flush {folder} to disk (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

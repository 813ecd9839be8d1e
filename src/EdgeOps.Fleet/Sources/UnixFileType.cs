using System.Runtime.InteropServices;

namespace EdgeOps.Fleet.Sources;

/// <summary>
/// Tells regular files from FIFOs, sockets and devices, which .NET's file-system types do not: reading a
/// FIFO blocks until a writer comes, so a fleet folder holding one would hang every reader.
/// </summary>
internal static partial class UnixFileType
{
    private const uint TypeMask = 0xF000; // S_IFMT
    private const uint Regular = 0x8000;  // S_IFREG
    private const uint Directory = 0x4000; // S_IFDIR

    /// <summary>True for a regular file or a folder; false for anything else, and for what cannot be examined.</summary>
    public static bool IsRegularOrDirectory(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        Span<byte> buffer = stackalloc byte[256];
        if (LStat(path, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            return false;
        }

        // struct stat: st_mode follows st_dev, st_ino (and, on x86-64 only, st_nlink).
        var offset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
        var mode = MemoryMarshal.Read<uint>(buffer[offset..]) & TypeMask;
        return mode is Regular or Directory;
    }

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LStat(string path, ref byte buffer);
}

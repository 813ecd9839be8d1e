using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using EdgeOps.Reconciler.Hosting;

namespace EdgeOps.Reconciler.Tests.Hosting;

/// <summary>
/// Releasing memory between passes drops clean file pages from the resident set, and never a page whose
/// content differs from the file: a written copy-on-write page stays as written, even once made read-only
/// (as the loader leaves relocated data).
/// </summary>
public sealed partial class IdleMemoryTests : IDisposable
{
    private const int Size = 4 << 20;
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"edgeops-idle-{Guid.NewGuid():N}");

    public IdleMemoryTests()
    {
        var bytes = new byte[Size];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i * 7);
        }

        File.WriteAllBytes(_path, bytes);
    }

    public void Dispose() => File.Delete(_path);

    [Fact]
    public unsafe void CleanFilePages_LeaveTheResidentSet_AndReadBackTheSame()
    {
        using var file = MemoryMappedFile.CreateFromFile(_path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        try
        {
            var sum = Touch(start);
            Assert.True(ResidentKiB(_path) >= Size / 1024 / 2, "the mapped file should be resident once read");

            var released = IdleMemory.Release();

            Assert.True(released >= Size / 1024 / 2, $"released {released} KiB");
            Assert.True(ResidentKiB(_path) < Size / 1024 / 4, $"still resident: {ResidentKiB(_path)} KiB");
            Assert.Equal(sum, Touch(start));
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    [Fact]
    public unsafe void WrittenCopyOnWritePage_MadeReadOnly_KeepsWhatWasWritten()
    {
        using var file = MemoryMappedFile.CreateFromFile(_path, FileMode.Open, null, 0, MemoryMappedFileAccess.CopyOnWrite);
        using var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.CopyOnWrite);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        try
        {
            Touch(start);
            start[4096 + 3] = 0xAB; // a private copy of one page, as relocating read-only data makes
            Assert.Equal(0, Mprotect((nint)start, Size, 1 /* PROT_READ */));

            IdleMemory.Release();

            Assert.Equal(0xAB, start[4096 + 3]);
            Assert.Equal(unchecked((byte)((4096 + 4) * 7)), start[4096 + 4]);
        }
        finally
        {
            Mprotect((nint)start, Size, 3 /* PROT_READ | PROT_WRITE */);
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    private static unsafe long Touch(byte* start)
    {
        var sum = 0L;
        for (var i = 0; i < Size; i += 512)
        {
            sum += start[i];
        }

        return sum;
    }

    /// <summary>Resident kibibytes of every mapping of <paramref name="path"/> in this process.</summary>
    private static long ResidentKiB(string path)
    {
        var total = 0L;
        var inFile = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            // A mapping's header line starts with its address range; its fields ("Rss:   12 kB") with a name and a colon.
            var first = line.Split(' ', 2)[0];
            if (!first.EndsWith(':'))
            {
                inFile = line.EndsWith(path, StringComparison.Ordinal);
            }
            else if (inFile && first == "Rss:")
            {
                total += long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nuint length, int protection);
}

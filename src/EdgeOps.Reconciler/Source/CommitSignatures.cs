using System.Runtime.InteropServices;
using System.Text;
using LibGit2Sharp;

namespace EdgeOps.Reconciler.Source;

/// <summary>
/// A commit's signature and the bytes it signs, from libgit2's git_commit_extract_signature, called
/// directly. LibGit2Sharp's own wrapper (<c>Commit.ExtractSignature</c>) passes its output buffers as
/// a class by value: the JIT pins such a class and libgit2 writes into it, but NativeAOT marshals a copy
/// in and nothing back, so under NativeAOT every commit looked unsigned and the verifier failed on an
/// empty buffer. Here the buffers are structs passed by reference, which both builds marshal alike.
/// </summary>
internal static partial class CommitSignatures
{
    /// <summary>The libgit2 LibGit2Sharp ships and loads (LibGit2Sharp.NativeBinaries names it by its commit).</summary>
    private const string Libgit2 = "git2-5853918";

    private const int NotFound = -3;

    /// <summary>The armored signature and the signed bytes, or null when the commit carries no signature.</summary>
    public static (string Signature, byte[] SignedData)? Extract(Repository repository, ObjectId commit)
    {
        // LibGit2Sharp has initialised libgit2 by now (the repository is open); the native repository is our own.
        Check(git_repository_open(out var native, repository.Info.Path), "git_repository_open");
        try
        {
            var id = GitOid.From(commit);
            var signature = default(GitBuf);
            var signed = default(GitBuf);
            var result = git_commit_extract_signature(ref signature, ref signed, native, ref id, null);
            try
            {
                if (result == NotFound)
                {
                    return null;
                }

                Check(result, "git_commit_extract_signature");
                return (Encoding.UTF8.GetString(signature.AsSpan()), signed.AsSpan().ToArray());
            }
            finally
            {
                git_buf_dispose(ref signature);
                git_buf_dispose(ref signed);
            }
        }
        finally
        {
            git_repository_free(native);
        }
    }

    private static void Check(int result, string call)
    {
        if (result < 0)
        {
            throw new LibGit2SharpException($"{call} failed ({result})");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct GitBuf
    {
        public IntPtr Ptr;
        public UIntPtr Reserved;
        public UIntPtr Size;

        public readonly unsafe ReadOnlySpan<byte> AsSpan() => Ptr == IntPtr.Zero ? [] : new ReadOnlySpan<byte>((void*)Ptr, checked((int)Size));
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct GitOid
    {
        public fixed byte Bytes[20];

        public static GitOid From(ObjectId id)
        {
            var oid = default(GitOid);
            id.RawId.CopyTo(new Span<byte>(oid.Bytes, 20));
            return oid;
        }
    }

    [LibraryImport(Libgit2, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int git_repository_open(out IntPtr repository, string path);

    [LibraryImport(Libgit2)]
    private static partial void git_repository_free(IntPtr repository);

    [LibraryImport(Libgit2, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int git_commit_extract_signature(ref GitBuf signature, ref GitBuf signedData, IntPtr repository, ref GitOid commitId, string? field);

    [LibraryImport(Libgit2)]
    private static partial void git_buf_dispose(ref GitBuf buffer);
}

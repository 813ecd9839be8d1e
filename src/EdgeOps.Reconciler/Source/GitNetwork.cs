using System.Runtime.InteropServices;

namespace EdgeOps.Reconciler.Source;

/// <summary>
/// libgit2's bounds on network I/O (GIT_OPT_SET_SERVER_CONNECT_TIMEOUT, GIT_OPT_SET_SERVER_TIMEOUT, libgit2 1.7+).
/// Its default is none: a read waits as long as the socket does, which for a peer that vanished behind a NAT is
/// forever. LibGit2Sharp does not expose them, so they are set with git_libgit2_opts, called directly. They are
/// process-wide; a process follows one fleet repo.
/// </summary>
internal static partial class GitNetwork
{
    /// <summary>The libgit2 LibGit2Sharp ships and loads (as in <see cref="CommitSignatures"/>).</summary>
    private const string Libgit2 = "git2-5853918";

    private const int SetServerConnectTimeout = 39;
    private const int SetServerTimeout = 41;

    private static long _applied = -1;

    /// <summary>Bounds connecting, and each read or write, to <paramref name="timeout"/> (connecting to at most a minute, where the OS stops anyway).</summary>
    public static void SetTimeout(TimeSpan timeout)
    {
        var milliseconds = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
        if (Interlocked.Exchange(ref _applied, milliseconds) == milliseconds)
        {
            return;
        }

        _ = LibGit2Sharp.GlobalSettings.Version; // LibGit2Sharp has loaded and initialised libgit2
        var connect = Math.Min(milliseconds, 60_000);
        if (git_libgit2_opts(SetServerConnectTimeout, connect) != 0 || git_libgit2_opts(SetServerTimeout, milliseconds) != 0)
        {
            Interlocked.Exchange(ref _applied, -1);
            throw new InvalidOperationException("libgit2 refused its network timeouts (it is older than 1.7?)");
        }
    }

    // git_libgit2_opts is variadic; an int after the option is passed as a fixed int argument on x64 and arm64 Linux.
    [LibraryImport(Libgit2)]
    private static partial int git_libgit2_opts(int option, int value);
}

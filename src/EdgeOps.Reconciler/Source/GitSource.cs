using System.Text.RegularExpressions;
using LibGit2Sharp;

namespace EdgeOps.Reconciler.Source;

/// <summary>The outcome of a sync: the head the repository's branch points at, and whether the remote answered.</summary>
/// <param name="Missing">The remote answered that the repository or the branch does not exist: a configuration error, not an outage.</param>
public sealed record SourceState(string? Revision, bool Online, string? Error, bool Missing = false)
{
    public bool HasRevision => Revision is not null;
}

/// <summary>Why a fetched head may not be used.</summary>
public enum HeadVerdict
{
    Accept,
    Unchanged,
    NotDescendant,
}

/// <summary>
/// Pulls the fleet repo into a local bare clone (LibGit2Sharp) that survives restarts and serves the
/// fleet when the remote cannot be reached. Full clones with incremental fetches: shallow clones work
/// only over http(s) and a fetch into a shallow clone corrupts it. A clone is made in a temporary
/// folder and moved into place, so a half-written cache is never taken for a good one; a cache that
/// will not open is rebuilt. Credentials come from a file or the environment and never reach a
/// message: URLs are shown without their user information.
/// </summary>
public sealed partial class GitSource(GitSourceOptions options)
{
    public string CacheDirectory => options.CacheDirectory;

    /// <summary>The URL as it may be shown: without user name or password.</summary>
    public string DisplayUrl => Redact(options.Url);

    /// <summary>Clones or fetches; on failure keeps what the cache already has.</summary>
    /// <param name="deepCheck">
    /// First read every object of the cached head and of <paramref name="needed"/> — revisions taken from
    /// this cache before, which it must still hold (at start-up, before crash recovery reads them): a cache
    /// damaged by power loss is rebuilt before anything relies on it.
    /// </param>
    public SourceState Sync(bool deepCheck = false, IEnumerable<string?>? needed = null)
    {
        if (deepCheck && !DeepReadable(needed ?? []))
        {
            DeleteCache();
        }

        try
        {
            FetchOrClone();
        }
        catch (LibGit2SharpException ex)
        {
            if (NotFound(ex.Message))
            {
                return new SourceState(SafeHead(), Online: true, $"the repository {DisplayUrl} does not exist (the server says: {Redact(ex.Message)}); check --repo", Missing: true);
            }

            if (!RemoteReachable())
            {
                return new SourceState(SafeHead(), Online: false, $"cannot reach {DisplayUrl}: {Redact(ex.Message)}{CredentialsHint(ex.Message)}");
            }

            // The remote answers, so the fault is in the cache: rebuild it.
            try
            {
                DeleteCache();
                FetchOrClone();
            }
            catch (LibGit2SharpException again)
            {
                return new SourceState(SafeHead(), Online: false, $"cannot sync from {DisplayUrl}: {Redact(again.Message)}{CredentialsHint(again.Message)}");
            }
        }

        var head = SafeHead();
        return head is null
            ? new SourceState(null, Online: true, options.Branch is null
                ? $"{DisplayUrl} has no default branch (an empty repository?); name one with --branch"
                : $"branch '{options.Branch}' does not exist on {DisplayUrl}; check --branch (leave it out to follow the default branch)", Missing: true)
            : new SourceState(head, Online: true, null);
    }

    /// <summary>
    /// When the server refused to authenticate, where the credentials came from (never what they are): a
    /// credentials file that is not there (a path mistyped, a Secret not mounted yet) reads otherwise as an outage.
    /// </summary>
    private string CredentialsHint(string message)
    {
        if (!message.Contains("authentication", StringComparison.OrdinalIgnoreCase) && !message.Contains("401", StringComparison.Ordinal))
        {
            return string.Empty;
        }

        if (options.CredentialsFile is { } file)
        {
            return File.Exists(file) ? $" (the server refused the credentials in {file})" : $" (the credentials file {file} does not exist)";
        }

        return options.CredentialsEnvironmentVariable is { } variable && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable))
            ? $" (the server refused the credentials in ${variable})"
            : " (no credentials were given: --credentials-file)";
    }

    /// <summary>
    /// Whether a server's answer means "no such repository" (HTTP 404, git daemon's refusal). A local path
    /// that has gone is taken for an outage instead: at the edge it is most often a medium not mounted yet.
    /// </summary>
    private static bool NotFound(string message) =>
        message.Contains("404", StringComparison.Ordinal)
        || message.Contains("not exported", StringComparison.OrdinalIgnoreCase)
        || message.Contains("repository not found", StringComparison.OrdinalIgnoreCase);

    /// <summary>The branch followed: the one named, else the default branch the clone recorded from the remote's HEAD.</summary>
    private string? BranchRef(Repository repository) =>
        options.Branch is { } branch ? $"refs/heads/{branch}"
        : repository.Refs.Head is SymbolicReference head ? head.TargetIdentifier : null;

    /// <summary>Every branch, and the notes (Sigstore bundles of signed revisions live in refs/notes/edgeops-signatures).</summary>
    private static readonly string[] RefSpecs = ["+refs/heads/*:refs/heads/*", "+refs/notes/*:refs/notes/*"];

    private void FetchOrClone()
    {
        using var cached = OpenCache();
        if (cached is null)
        {
            Clone();
            using var fresh = new Repository(options.CacheDirectory);
            Commands.Fetch(fresh, "origin", RefSpecs, FetchOptions(), null);
        }
        else
        {
            Commands.Fetch(cached, "origin", RefSpecs, FetchOptions(), null);
        }
    }

    private bool RemoteReachable()
    {
        try
        {
            _ = Repository.ListRemoteReferences(options.Url, FetchOptions().CredentialsProvider).Take(1).ToList();
            return true;
        }
        catch (LibGit2SharpException)
        {
            return false;
        }
    }

    private string? SafeHead()
    {
        try
        {
            return Head();
        }
        catch (LibGit2SharpException)
        {
            return null;
        }
    }

    private void DeleteCache()
    {
        if (Directory.Exists(options.CacheDirectory))
        {
            Directory.Delete(options.CacheDirectory, recursive: true);
        }
    }

    /// <summary>The commit the branch points at in the cache, or null.</summary>
    public string? Head()
    {
        using var repository = OpenCache();
        return repository is not null && BranchRef(repository) is { } branch
            ? repository.Refs[branch]?.ResolveToDirectReference()?.TargetIdentifier
            : null;
    }

    /// <summary>
    /// Whether moving from <paramref name="applied"/> to <paramref name="candidate"/> goes forward in
    /// history. A head that is not a descendant of what runs (a force-push back in time, an old commit
    /// replayed) is refused unless the operator allows it.
    /// </summary>
    public HeadVerdict Judge(string candidate, string? applied)
    {
        if (applied is null)
        {
            return HeadVerdict.Accept;
        }

        if (candidate == applied)
        {
            return HeadVerdict.Unchanged;
        }

        using var repository = OpenCache() ?? throw new InvalidOperationException("no cache to judge revisions in");
        var next = repository.Lookup<Commit>(candidate);
        var current = repository.Lookup<Commit>(applied);
        if (next is null || current is null)
        {
            return HeadVerdict.NotDescendant; // the applied revision is gone from history
        }

        var mergeBase = repository.ObjectDatabase.FindMergeBase(next, current);
        return mergeBase?.Sha == current.Sha ? HeadVerdict.Accept : HeadVerdict.NotDescendant;
    }

    /// <summary>Opens the cache for reading a revision's tree (the caller disposes it).</summary>
    public Repository Open() => OpenCache() ?? throw new InvalidOperationException($"no fleet repo cache at {options.CacheDirectory}");

    private Repository? OpenCache()
    {
        if (!Directory.Exists(options.CacheDirectory))
        {
            return null;
        }

        try
        {
            if (Repository.IsValid(options.CacheDirectory))
            {
                var repository = new Repository(options.CacheDirectory);
                if (repository.Network.Remotes["origin"] is not null && Readable(repository))
                {
                    return repository;
                }

                repository.Dispose();
            }
        }
        catch (LibGit2SharpException)
        {
            // fall through: rebuilt below
        }

        // Corrupt or half-written: rebuild from scratch.
        Directory.Delete(options.CacheDirectory, recursive: true);
        return null;
    }

    /// <summary>Whether every tree and blob of the branch head and of the given revisions that the cache has can be read.</summary>
    private bool DeepReadable(IEnumerable<string?> revisions)
    {
        using var repository = OpenCache();
        if (repository is null)
        {
            return true; // nothing cached: cloned afresh anyway
        }

        try
        {
            var commits = new List<Commit>();
            if (BranchRef(repository) is { } name && repository.Refs[name]?.ResolveToDirectReference()?.TargetIdentifier is { } head)
            {
                commits.Add(repository.Lookup<Commit>(head) ?? throw new LibGit2SharpException($"head {head} is missing"));
            }

            foreach (var revision in revisions.OfType<string>().Distinct(StringComparer.Ordinal))
            {
                // A revision the agent applied or was applying came from this cache: missing means damaged.
                commits.Add(repository.Lookup<Commit>(revision) ?? throw new LibGit2SharpException($"revision {revision} is missing"));
            }

            var seen = new HashSet<ObjectId>();
            var pending = new Stack<Tree>(commits.Select(c => c.Tree));
            while (pending.Count > 0)
            {
                foreach (var entry in pending.Pop())
                {
                    if (!seen.Add(entry.Target.Id))
                    {
                        continue;
                    }

                    switch (entry.Target)
                    {
                        case Tree tree:
                            pending.Push(tree);
                            break;
                        case Blob blob:
                            _ = repository.ObjectDatabase.RetrieveObjectMetadata(blob.Id).Size;
                            break;
                    }
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is LibGit2SharpException or NullReferenceException)
        {
            return false;
        }
    }

    /// <summary>Whether the cache's refs and the branch's commit and tree can be read (a damaged cache cannot).</summary>
    private bool Readable(Repository repository)
    {
        try
        {
            _ = repository.Refs.Head?.TargetIdentifier;
            var branch = BranchRef(repository) is { } name ? repository.Refs[name] : null;
            if (branch is null)
            {
                return true; // nothing fetched for it (yet, or any more): not damage
            }

            var commit = repository.Lookup<Commit>(branch.ResolveToDirectReference().TargetIdentifier);
            return commit is not null && commit.Tree.Count >= 0;
        }
        catch (LibGit2SharpException)
        {
            return false;
        }
    }

    private void Clone()
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(options.CacheDirectory))!;
        Directory.CreateDirectory(parent);
        var temporary = Path.Combine(parent, $".clone-{Guid.NewGuid():N}");
        try
        {
            Repository.Clone(options.Url, temporary, new CloneOptions(FetchOptions()) { IsBare = true });
            using (var repository = new Repository(temporary))
            {
                // Mirror every branch as a local ref, so later fetches update refs/heads/* directly.
                repository.Config.Set("remote.origin.fetch", "+refs/heads/*:refs/heads/*");
            }

            Directory.Move(temporary, options.CacheDirectory);
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    private FetchOptions FetchOptions()
    {
        GitNetwork.SetTimeout(options.Timeout); // before every network operation: no fetch waits on a silent server for ever
        var fetch = new FetchOptions { Prune = true, TagFetchMode = TagFetchMode.None };
        var secret = options.CredentialsFile is { } file && File.Exists(file)
            ? File.ReadAllText(file).Trim()
            : options.CredentialsEnvironmentVariable is { } variable ? Environment.GetEnvironmentVariable(variable) : null;
        if (!string.IsNullOrEmpty(secret))
        {
            var colon = secret.IndexOf(':', StringComparison.Ordinal);
            var (user, password) = colon > 0 ? (secret[..colon], secret[(colon + 1)..]) : ("x-access-token", secret);
            fetch.CredentialsProvider = (_, _, _) => new UsernamePasswordCredentials { Username = user, Password = password };
        }

        return fetch;
    }

    /// <summary>Removes user information (credentials) from every URL in a text.</summary>
    public static string Redact(string text) => UserInfo().Replace(text, "$1***@");

    [GeneratedRegex(@"([a-z][a-z0-9+.-]*://)[^/@\s]+@", RegexOptions.IgnoreCase)]
    private static partial Regex UserInfo();
}

namespace EdgeOps.Reconciler.Source;

/// <summary>Where the fleet repo is and how to reach it.</summary>
public sealed record GitSourceOptions
{
    /// <summary>A path, file://, git:// or http(s):// URL.</summary>
    public required string Url { get; init; }

    /// <summary>The branch to follow; null follows the remote's default branch (its HEAD).</summary>
    public string? Branch { get; init; }

    /// <summary>The local cache (a bare clone) that survives restarts.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>A file holding a token, or "user:password", for http(s); read at each fetch, never logged.</summary>
    public string? CredentialsFile { get; init; }

    /// <summary>
    /// How long a fetch waits on the server without a byte moving (and at most how long connecting takes) before
    /// it fails: a half-open connection over a flaky link, or a server that accepts and never answers, must not
    /// hold the agent. A slow link that keeps moving is never cut.
    /// </summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(1);

    /// <summary>An environment variable holding the same, when no file is given.</summary>
    public string? CredentialsEnvironmentVariable { get; init; } = "EDGEOPS_GIT_CREDENTIALS";
}

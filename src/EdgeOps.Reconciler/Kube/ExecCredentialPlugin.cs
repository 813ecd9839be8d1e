using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeOps.Reconciler.Kube;

/// <summary>
/// A kubeconfig user's <c>exec</c> credential plugin (client.authentication.k8s.io, as kubectl runs it):
/// the command is run without a terminal, with the kubeconfig's environment added and
/// <c>KUBERNETES_EXEC_INFO</c> set, and prints an ExecCredential whose status holds a token or a client
/// certificate and key. The credential is kept until its expirationTimestamp (or, without one, until
/// the server refuses it) and the plugin is run again after that.
/// </summary>
public sealed class ExecCredentialPlugin
{
    /// <summary>How long a plugin may take; longer is a failure, not a hung agent.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>A credential this close to its expiry is renewed before use.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private Credential? _current;
    private Task<Credential>? _running;

    public required string Command { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; } = [];

    /// <summary>The ExecCredential apiVersion the plugin speaks (v1 or v1beta1).</summary>
    public required string ApiVersion { get; init; }

    /// <summary>Shown when the command cannot be started: how to install it.</summary>
    public string? InstallHint { get; init; }

    /// <summary>Directory relative commands are found in (the kubeconfig's), as kubectl does for paths with a slash.</summary>
    public string? BaseDirectory { get; init; }

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>With provideClusterInfo, the cluster the credential is for, passed to the plugin in KUBERNETES_EXEC_INFO.</summary>
    public ClusterInfo? Cluster { get; init; }

    public sealed record ClusterInfo(Uri Server, string? CertificateAuthorityPem, bool SkipTlsVerify, string? TlsServerName);

    /// <summary>What one run of the plugin gave.</summary>
    public sealed record Credential(string? Token, X509Certificate2? Certificate, DateTimeOffset? Expires);

    /// <summary>
    /// The credential now: the one kept, or a new run of the plugin when there is none or it expired.
    /// Callers that ask while the plugin runs share that run.
    /// </summary>
    public async ValueTask<Credential> GetAsync(CancellationToken cancellationToken)
    {
        Task<Credential> run;
        lock (_gate)
        {
            if (Fresh(_current) is { } kept)
            {
                return kept;
            }

            run = _running ??= RunAndKeepAsync();
        }

        return await run.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<Credential> RunAndKeepAsync()
    {
        try
        {
            var credential = await RunAsync().ConfigureAwait(false);
            lock (_gate)
            {
                _current = credential;
            }

            return credential;
        }
        finally
        {
            lock (_gate)
            {
                _running = null;
            }
        }
    }

    /// <summary>The last credential, whatever its age (for a TLS handshake that needs a certificate now).</summary>
    public Credential? Last
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>The server refused the credential: the next request runs the plugin again.</summary>
    public void Reject(Credential credential)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_current, credential))
            {
                _current = null;
            }
        }
    }

    private Credential? Fresh(Credential? credential) =>
        credential is not null && (credential.Expires is not { } expires || expires - Margin > Clock.GetUtcNow()) ? credential : null;

    /// <summary>One run; bounded by <see cref="Timeout"/>, not by any one caller (others may be waiting for it).</summary>
    private async Task<Credential> RunAsync()
    {
        var command = Command.Contains('/', StringComparison.Ordinal) && BaseDirectory is not null ? Path.GetFullPath(Command, BaseDirectory) : Command;
        var spec = new JsonObject { ["interactive"] = false };
        if (Cluster is { } cluster)
        {
            spec["cluster"] = new JsonObject
            {
                ["server"] = cluster.Server.AbsoluteUri,
                ["tls-server-name"] = cluster.TlsServerName,
                ["insecure-skip-tls-verify"] = cluster.SkipTlsVerify,
                ["certificate-authority-data"] = cluster.CertificateAuthorityPem is { } pem ? Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(pem)) : null,
            };
        }

        var info = new KeyValuePair<string, string>("KUBERNETES_EXEC_INFO", new JsonObject { ["apiVersion"] = ApiVersion, ["kind"] = "ExecCredential", ["spec"] = spec }.ToJsonString());

        // Not interactive: stdin is closed. Done when the plugin exits, whatever it left running; its output is bounded.
        var result = await Upgrades.HostCommand.RunAsync([command, .. Arguments], Timeout, CancellationToken.None, [.. Environment, info]).ConfigureAwait(false);
        if (result.StartError is { } why)
        {
            throw Failure($"cannot be started ({why}){(InstallHint is { Length: > 0 } hint ? $"; {hint.Trim()}" : string.Empty)}");
        }

        if (result.TimedOut)
        {
            throw Failure($"did not finish within {Timeout.TotalSeconds:0} s");
        }

        if (result.TooLong)
        {
            throw Failure($"printed more than {Upgrades.HostCommand.MaxOutputChars / 1024} KiB");
        }

        if (result.ExitCode != 0)
        {
            var said = result.Stderr.Trim();
            throw Failure($"exited with {result.ExitCode}{(said.Length > 0 ? ": " + Limit(said) : string.Empty)}");
        }

        return Parse(result.Stdout);
    }

    private Credential Parse(string output)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(output);
        }
        catch (JsonException ex)
        {
            throw Failure($"printed something that is not an ExecCredential ({Fleet.Diagnostics.JsonErrors.Describe(ex)})", ex);
        }

        if (root is not JsonObject credential || credential["kind"]?.GetValueKind() != JsonValueKind.String || (string?)credential["kind"] != "ExecCredential"
            || credential["status"] is not JsonObject status)
        {
            throw Failure("printed JSON without kind ExecCredential and a status");
        }

        var token = Text(status, "token");
        var certificateData = Text(status, "clientCertificateData");
        var keyData = Text(status, "clientKeyData");
        X509Certificate2? certificate = null;
        if (certificateData is not null || keyData is not null)
        {
            if (certificateData is null || keyData is null)
            {
                throw Failure("returned a client certificate without its key, or a key without its certificate");
            }

            try
            {
                certificate = X509Certificate2.CreateFromPem(certificateData, keyData);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                throw Failure($"returned a client certificate and key that cannot be read together ({ex.Message.TrimEnd('.')})", ex);
            }
        }

        if (token is null && certificate is null)
        {
            throw Failure("returned neither a token nor a client certificate");
        }

        DateTimeOffset? expires = null;
        if (Text(status, "expirationTimestamp") is { } stamp)
        {
            expires = DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when)
                ? when
                : throw Failure($"returned an expirationTimestamp that is not a time: '{Limit(stamp)}'");
        }

        return new Credential(token, certificate, expires);
    }

    private static string? Text(JsonObject status, string name) =>
        status[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text ? text : null;

    private static string Limit(string text) => text.Length <= 512 ? text : text[..512] + "…";

    private KubeUnavailableException Failure(string what, Exception? inner = null) =>
        new($"the kubeconfig's credential plugin '{Command}' {what}", inner);
}

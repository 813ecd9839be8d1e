using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace EdgeOps.Reconciler.Kube;

/// <summary>
/// Where the API server is and how the agent proves who it is: what a kubeconfig context or a pod's
/// service account says, resolved (<see cref="KubeConfig"/>). Makes the HTTP handler that speaks TLS
/// to that server, trusting only the configured authority when there is one, and sets each request's
/// credentials. A token file is read again whenever it changes on disk, since projected
/// service-account tokens rotate under a running agent.
/// </summary>
public sealed class KubeConnection
{
    private readonly Lock _tokenLock = new();
    private (DateTime Written, long Length, string Token)? _fileToken;

    /// <summary>The API server, e.g. https://127.0.0.1:6443/.</summary>
    public required Uri Server { get; init; }

    /// <summary>The only roots the server's certificate may chain to; none means the system's trust store.</summary>
    public X509Certificate2Collection? CertificateAuthority { get; init; }

    /// <summary>Accept any server certificate (kubeconfig's insecure-skip-tls-verify).</summary>
    public bool SkipTlsVerify { get; init; }

    /// <summary>The name the server's certificate is checked against instead of the server's host (tls-server-name).</summary>
    public string? TlsServerName { get; init; }

    /// <summary>A client certificate with its private key.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>A bearer token.</summary>
    public string? Token { get; init; }

    /// <summary>A file holding the bearer token, read again when it changes.</summary>
    public string? TokenFile { get; init; }

    /// <summary>HTTP basic authentication, when the kubeconfig gives a user name and password.</summary>
    public (string User, string Password)? Basic { get; init; }

    /// <summary>The proxy every request goes through (kubeconfig's proxy-url; http or socks5); none means the environment's.</summary>
    public Uri? Proxy { get; init; }

    /// <summary>A credential plugin that gives a token or a client certificate when asked.</summary>
    public ExecCredentialPlugin? Exec { get; init; }

    /// <summary>The context's default namespace, if it names one.</summary>
    public string? Namespace { get; init; }

    /// <summary>The server URI with a trailing slash, so that relative paths resolve under it.</summary>
    public Uri BaseUri => Server.AbsoluteUri.EndsWith('/') ? Server : new Uri(Server.AbsoluteUri + "/");

    /// <summary>A handler for this server: TLS as configured, the client certificate presented, connections pooled.</summary>
    public HttpMessageHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AutomaticDecompression = System.Net.DecompressionMethods.GZip,
        };
        handler.SslOptions.TargetHost = TlsServerName;
        if (Proxy is not null)
        {
            handler.Proxy = new System.Net.WebProxy(Proxy);
            handler.UseProxy = true;
        }

        if (ClientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [ClientCertificate];
        }
        else if (Exec is { } plugin)
        {
            // The plugin ran for the request before its connection was made (AuthorizeAsync); a renewed
            // certificate reaches new connections, so pooled ones are retired after a few minutes.
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => plugin.Last?.Certificate!;
            handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5);
        }

        if (SkipTlsVerify)
        {
            // Asked for by name in the kubeconfig (insecure-skip-tls-verify), as kubectl honours it.
#pragma warning disable CA5359
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (CertificateAuthority is { Count: > 0 } roots)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors, roots);
        }

        return handler;
    }

    /// <summary>
    /// Sets the request's credentials: the plugin's credential, the bearer token (the file's current
    /// one) or basic authentication. Returns the plugin's credential, for <see cref="Rejected"/>.
    /// </summary>
    public async ValueTask<ExecCredentialPlugin.Credential?> AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Exec is not { } plugin)
        {
            Authorize(request);
            return null;
        }

        var credential = await plugin.GetAsync(cancellationToken).ConfigureAwait(false);
        if (credential.Token is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return credential;
    }

    /// <summary>The server refused this plugin credential (401): the next request runs the plugin again.</summary>
    public void Rejected(ExecCredentialPlugin.Credential credential) => Exec?.Reject(credential);

    /// <summary>Sets the request's credentials: the bearer token (the file's current one) or basic authentication.</summary>
    public void Authorize(HttpRequestMessage request)
    {
        if (CurrentToken() is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (Basic is var (user, password))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }
    }

    /// <summary>
    /// The server's certificate must chain to one of the configured roots, and only to them, and name
    /// the host (or tls-server-name); the system's trust store plays no part.
    /// </summary>
    internal static bool Trusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private string? CurrentToken()
    {
        if (TokenFile is null)
        {
            return Token;
        }

        lock (_tokenLock)
        {
            var info = new FileInfo(TokenFile);
            if (_fileToken is not { } known || !info.Exists || known.Written != info.LastWriteTimeUtc || known.Length != info.Length)
            {
                try
                {
                    _fileToken = (info.LastWriteTimeUtc, info.Length, File.ReadAllText(TokenFile).Trim());
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Mid-rotation (the kubelet swaps a symlink) the token read last is still good for a while.
                    if (_fileToken is null)
                    {
                        throw new KubeUnavailableException($"cannot read the token file {TokenFile}: {ex.Message}", ex);
                    }
                }
            }

            return _fileToken?.Token ?? Token;
        }
    }
}

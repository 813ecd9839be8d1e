using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EdgeOps.Reconciler.Kube;
using Xunit;

namespace EdgeOps.Reconciler.Tests.Kube;

/// <summary>
/// Reading kubeconfig files and a pod's service account into a connection: what kubectl would pick,
/// and for every file that cannot be used, an error at the line that is wrong.
/// </summary>
public sealed class KubeConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgeops-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FromFiles_CurrentContext_GivesItsServerTokenCaAndNamespace()
    {
        var (caPem, _) = SelfSigned("CN=cluster-ca");
        var path = Write("config", $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: edge
              cluster:
                server: https://10.0.0.1:6443
                certificate-authority-data: {Base64(caPem)}
                tls-server-name: kubernetes.default
            - name: other
              cluster: {"{"}server: "https://other:6443", insecure-skip-tls-verify: true{"}"}
            users:
            - name: agent
              user: {"{"}token: abc123{"}"}
            contexts:
            - name: edge
              context: {"{"}cluster: edge, user: agent, namespace: edgeops-system{"}"}
            - name: other
              context: {"{"}cluster: other, user: agent{"}"}
            current-context: edge
            """);

        var connection = KubeConfig.FromFiles([path], null);

        Assert.Equal(new Uri("https://10.0.0.1:6443/"), connection.BaseUri);
        Assert.Equal("abc123", connection.Token);
        Assert.Equal("edgeops-system", connection.Namespace);
        Assert.Equal("kubernetes.default", connection.TlsServerName);
        Assert.False(connection.SkipTlsVerify);
        Assert.Equal("CN=cluster-ca", Assert.Single(connection.CertificateAuthority!).Subject);

        var other = KubeConfig.FromFiles([path], "other");
        Assert.Equal("other", other.Server.Host);
        Assert.True(other.SkipTlsVerify);
        Assert.Null(other.CertificateAuthority);
        Assert.Null(other.Namespace);
    }

    [Fact]
    public void FromFiles_RelativePaths_AreRelativeToTheKubeconfig()
    {
        var (caPem, _) = SelfSigned("CN=file-ca");
        var (certPem, keyPem) = SelfSigned("CN=agent");
        Directory.CreateDirectory(Path.Combine(_dir, "pki"));
        File.WriteAllText(Path.Combine(_dir, "pki", "ca.crt"), caPem);
        File.WriteAllText(Path.Combine(_dir, "pki", "agent.crt"), certPem);
        File.WriteAllText(Path.Combine(_dir, "pki", "agent.key"), keyPem);
        var path = Write("config", """
            clusters: [{name: c, cluster: {server: "https://k3s:6443", certificate-authority: pki/ca.crt}}]
            users: [{name: u, user: {client-certificate: pki/agent.crt, client-key: pki/agent.key}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """);

        var connection = KubeConfig.FromFiles([path], null);

        Assert.Equal("CN=file-ca", Assert.Single(connection.CertificateAuthority!).Subject);
        Assert.Equal("CN=agent", connection.ClientCertificate!.Subject);
        Assert.True(connection.ClientCertificate.HasPrivateKey);
        Assert.Null(connection.Token);
    }

    [Fact]
    public void FromFiles_SeveralFiles_FirstToDefineANameWins()
    {
        var first = Write("a", """
            clusters: [{name: shared, cluster: {server: "https://first:6443"}}]
            contexts: [{name: work, context: {cluster: shared, user: u}}]
            current-context: work
            """);
        var second = Write("b", """
            clusters: [{name: shared, cluster: {server: "https://second:6443"}}]
            users: [{name: u, user: {username: admin, password: secret}}]
            contexts: [{name: work, context: {cluster: nowhere, user: u}}]
            current-context: elsewhere
            """);

        var connection = KubeConfig.FromFiles([first, second], null);

        Assert.Equal("first", connection.Server.Host);
        Assert.Equal(("admin", "secret"), connection.Basic);
        using var request = new HttpRequestMessage(HttpMethod.Get, connection.BaseUri);
        connection.Authorize(request);
        Assert.Equal("Basic", request.Headers.Authorization!.Scheme);
        Assert.Equal("admin:secret", Encoding.UTF8.GetString(Convert.FromBase64String(request.Headers.Authorization.Parameter!)));
    }

    [Fact]
    public void Resolve_InAPod_UsesTheServiceAccount_UnlessAContextIsNamed()
    {
        var account = Path.Combine(_dir, "serviceaccount");
        Directory.CreateDirectory(account);
        File.WriteAllText(Path.Combine(account, "token"), "pod-token\n");
        File.WriteAllText(Path.Combine(account, "ca.crt"), SelfSigned("CN=kube-root-ca").Certificate);
        File.WriteAllText(Path.Combine(account, "namespace"), "edgeops-system");
        var kubeconfig = Write("config", "clusters: [{name: c, cluster: {server: \"https://laptop:6443\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n");
        var environment = new Dictionary<string, string>
        {
            ["KUBERNETES_SERVICE_HOST"] = "fd00::1",
            ["KUBERNETES_SERVICE_PORT"] = "443",
            ["KUBECONFIG"] = kubeconfig,
        };

        var inPod = KubeConfig.Resolve(null, null, environment.GetValueOrDefault, account);

        Assert.Equal(new Uri("https://[fd00::1]:443/"), inPod.BaseUri);
        Assert.Equal("edgeops-system", inPod.Namespace);
        Assert.Equal("CN=kube-root-ca", Assert.Single(inPod.CertificateAuthority!).Subject);
        using var request = new HttpRequestMessage(HttpMethod.Get, inPod.BaseUri);
        inPod.Authorize(request);
        Assert.Equal("pod-token", request.Headers.Authorization!.Parameter);

        Assert.Equal("laptop", KubeConfig.Resolve(null, "x", environment.GetValueOrDefault, account).Server.Host);
        Assert.Equal("laptop", KubeConfig.Resolve(null, null, environment.GetValueOrDefault, Path.Combine(_dir, "no-such-account")).Server.Host);
    }

    [Fact]
    public void TokenFile_ReadAgainWhenItChanges_AndTheLastGoodOneKeptWhileItIsAway()
    {
        var token = Path.Combine(_dir, "token");
        File.WriteAllText(token, "first");
        var connection = KubeConfig.FromFiles([Write("config", "clusters: [{name: c, cluster: {server: \"https://k:6443\"}}]\nusers: [{name: u, user: {tokenFile: token}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")], null);

        Assert.Equal("first", Bearer(connection));
        File.WriteAllText(token, "second-token");
        Assert.Equal("second-token", Bearer(connection));
        File.Delete(token);
        Assert.Equal("second-token", Bearer(connection));
    }

    [Fact]
    public void Resolve_NothingToGoOn_SaysWhereItLooked()
    {
        var home = Path.Combine(_dir, "home");
        var environment = new Dictionary<string, string> { ["HOME"] = home };

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfig.Resolve(null, null, environment.GetValueOrDefault, Path.Combine(_dir, "none")));

        Assert.Null(ex.Diagnostic);
        Assert.Contains(Path.Combine(home, ".kube", "config"), ex.Message, StringComparison.Ordinal);

        environment["KUBECONFIG"] = Path.Combine(_dir, "missing-a") + Path.PathSeparator + Path.Combine(_dir, "missing-b");
        ex = Assert.Throws<KubeConfigException>(() => KubeConfig.Resolve(null, null, environment.GetValueOrDefault, Path.Combine(_dir, "none")));
        Assert.Contains("missing-b", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadFiles => new()
    {
        // What the file says, where the error is (line:col), and what the message must say.
        { "clusters: [{name: c, cluster: {server: x}\n", "2:1", "EO1002" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: y\n", "3:1", "context 'y' is not defined" },
        { "contexts: [{name: x, context: {cluster: gone}}]\ncurrent-context: x\n", "1:41", "names cluster 'gone', which is not defined" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\ncontexts: [{name: x, context: {cluster: c, user: nobody}}]\ncurrent-context: x\n", "2:50", "names user 'nobody', which is not defined" },
        { "clusters: [{name: c, cluster: {server: \"ftp://k\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", "1:40", "not an http(s) URL" },
        { "clusters: [{name: c, cluster: {server: \"https://k\", proxy-url: \"ftp://proxy:21\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", "1:64", "proxy-url 'ftp://proxy:21' is not an http:// or socks5:// URL" },
        { "clusters: [{name: c, cluster: {insecure-skip-tls-verify: true}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", "1:31", "'c' has no server" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\nusers:\n- name: u\n  user:\n    exec: {command: aws, args: [eks, get-token]}\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n", "5:11", "exec of user 'u' has no apiVersion" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\nusers:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: old}\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n", "5:24", "is not client.authentication.k8s.io/v1 or v1beta1" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\nusers:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: login, interactiveMode: Always}\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n", "5:90", "needs a terminal" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\nusers:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, args: --now}\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n", "5:83", "exec args must be a list" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\nusers:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, env: [{value: x}]}\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n", "5:83", "needs a name and a value" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\nusers: [{name: u, user: {auth-provider: {name: oidc}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n", "2:26", "auth-provider, which Kubernetes removed in 1.26" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\nusers: [{name: u, user: {token: t, as: admin}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n", "2:36", "impersonation" },
        { "clusters: [{name: c, cluster: {server: \"https://k\", certificate-authority-data: \"not base64!\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", "1:81", "is not base64" },
        { "clusters: [{name: c, cluster: {server: \"https://k\", certificate-authority-data: \"aGVsbG8=\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", "1:81", "holds no PEM certificate" },
        { "clusters: [{name: c, cluster: {server: \"https://k\", certificate-authority: missing/ca.crt}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", "1:76", "EO3005" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\nusers: [{name: u, user: {tokenFile: gone}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n", "2:37", "tokenFile 'gone' does not exist" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\nusers: [{name: u, user: {client-key-data: \"aGVsbG8=\"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n", "2:43", "client key but no client-certificate" },
        { "clusters: [{name: c, cluster: {server: \"https://k\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "1:1", "no current-context" },
        { "clusters: {c: {server: \"https://k\"}}\ncurrent-context: x\n", "1:11", "'clusters' must be a list" },
        { "clusters: [{cluster: {server: \"https://k\"}}]\ncurrent-context: x\n", "1:12", "needs a name" },
        { "clusters: [{name: c}]\ncurrent-context: x\n", "1:12", "needs a 'cluster' mapping" },
        { "- just\n- a list\n", "1:1", "a kubeconfig is a mapping" },
        { "current-context: x\n---\ncurrent-context: y\n", "3:1", "one YAML document" },
        { "# nothing but a comment\n", "1:1", "the kubeconfig is empty" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void FromFiles_BadFile_IsALocatedError(string text, string at, string says)
    {
        var path = Write("config", text);

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfig.FromFiles([path], null));

        Assert.NotNull(ex.Diagnostic);
        Assert.StartsWith($"{path}:{at}: error EO", ex.Message, StringComparison.Ordinal);
        Assert.Contains(says, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFiles_CertificateWithTheWrongKey_IsALocatedError()
    {
        var (certPem, _) = SelfSigned("CN=one");
        var (_, otherKey) = SelfSigned("CN=two");
        var path = Write("config", $"clusters: [{{name: c, cluster: {{server: \"https://k\"}}}}]\nusers:\n- name: u\n  user:\n    client-certificate-data: {Base64(certPem)}\n    client-key-data: {Base64(otherKey)}\ncontexts: [{{name: x, context: {{cluster: c, user: u}}}}]\ncurrent-context: x\n");

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfig.FromFiles([path], null));

        Assert.StartsWith($"{path}:5:30: error EO3050: user 'u': the client certificate and key cannot be read together", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InCluster_PortThatIsNotAPort_IsRefused()
    {
        var account = Path.Combine(_dir, "sa");
        Directory.CreateDirectory(account);
        File.WriteAllText(Path.Combine(account, "token"), "t");
        var environment = new Dictionary<string, string> { ["KUBERNETES_SERVICE_HOST"] = "10.0.0.1", ["KUBERNETES_SERVICE_PORT"] = "https" };

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfig.Resolve(null, null, environment.GetValueOrDefault, account));

        Assert.Contains("KUBERNETES_SERVICE_PORT", ex.Message, StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Bearer(KubeConnection connection)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, connection.BaseUri);
        connection.Authorize(request);
        return request.Headers.Authorization!.Parameter!;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    internal static (string Certificate, string Key) SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Tests.Infrastructure;
using Xunit;

namespace EdgeOps.Reconciler.Tests.Kube;

/// <summary>
/// The connection against the test API server over real TLS: its certificate checked against the
/// kubeconfig's authority only, a client certificate accepted as a user, a rotated token file picked up.
/// </summary>
[Collection("kube")]
public sealed class KubeConnectionTests(KubeServerFixture fixture) : IDisposable
{
    private static readonly KubeApiOptions Once = new() { MaxAttempts = 1, RequestTimeout = TimeSpan.FromSeconds(20) };
    private readonly string _dir = Directory.CreateTempSubdirectory("edgeops-kubeconn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ServerCertificate_ChainsToTheKubeconfigAuthority_IsTrusted()
    {
        if (fixture.Server.IsExternal)
        {
            return; // the external cluster's authority is whatever its kubeconfig says; this test needs the local server's files
        }

        var kubeconfig = Kubeconfig($"certificate-authority: {Path.Combine(fixture.Server.CertificateDirectory, "apiserver.crt")}", $"token: {fixture.Server.Token}");
        using var api = new KubeApi(KubeConfig.FromFiles([kubeconfig], null), Once);

        var response = await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.Status);
    }

    [Fact]
    public async Task ServerCertificate_FromAnotherAuthority_IsRefused()
    {
        var (otherCa, _) = KubeConfigTests.SelfSigned("CN=someone-else");
        File.WriteAllText(Path.Combine(_dir, "other-ca.crt"), otherCa);
        var kubeconfig = Kubeconfig("certificate-authority: other-ca.crt", $"token: {fixture.Server.Token}");
        using var api = new KubeApi(KubeConfig.FromFiles([kubeconfig], null), Once);

        var ex = await Assert.ThrowsAsync<KubeUnavailableException>(() => api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None));

        Assert.Contains("SSL", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ClientCertificate_SignedByTheServersClientAuthority_IsAUser()
    {
        if (fixture.Server.ClientCa is not { } ca)
        {
            return; // an external cluster: its client authority's key is not ours
        }

        var (certificate, key) = Issue(ca, "CN=edgeops-agent,O=system:masters");
        var kubeconfig = Kubeconfig("insecure-skip-tls-verify: true", $"client-certificate-data: {Base64(certificate)}\n    client-key-data: {Base64(key)}");
        using var api = new KubeApi(KubeConfig.FromFiles([kubeconfig], null), Once);

        var response = await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, response.Status);

        // The same subject, signed by an authority the server does not know: no user at all.
        var (stranger, strangerKey) = KubeConfigTests.SelfSigned("CN=edgeops-agent,O=system:masters");
        var forged = Kubeconfig("insecure-skip-tls-verify: true", $"client-certificate-data: {Base64(stranger)}\n    client-key-data: {Base64(strangerKey)}");
        using var refused = new KubeApi(KubeConfig.FromFiles([forged], null), Once);
        Assert.Equal(HttpStatusCode.Unauthorized, (await refused.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task TokenFile_RotatedUnderARunningClient_IsPickedUp()
    {
        var token = Path.Combine(_dir, "token");
        File.WriteAllText(token, "not-a-valid-token");
        var kubeconfig = Kubeconfig("insecure-skip-tls-verify: true", "tokenFile: token");
        using var api = new KubeApi(KubeConfig.FromFiles([kubeconfig], null), Once);

        Assert.Equal(HttpStatusCode.Unauthorized, (await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None)).Status);

        File.WriteAllText(token, fixture.Server.Token);
        Assert.Equal(HttpStatusCode.OK, (await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task ProxyUrl_RequestsTunnelThroughIt()
    {
        await using var proxy = new ConnectProxy();
        var kubeconfig = Kubeconfig($"insecure-skip-tls-verify: true\n    proxy-url: {proxy.Uri}", $"token: {fixture.Server.Token}");
        using var api = new KubeApi(KubeConfig.FromFiles([kubeconfig], null), Once);

        Assert.Equal(HttpStatusCode.OK, (await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None)).Status);

        Assert.Contains($"{fixture.Server.ServerUri.Host}:{fixture.Server.ServerUri.Port}", proxy.Tunnels);
    }

    [Fact]
    public async Task ExecPlugin_TokenWithoutExpiry_RunsOnceWithItsEnvironmentAndTheExecInfo()
    {
        var plugin = Plugin("""
            [ "$EDGEOPS_TEST_GREETING" = hello ] || { echo "env missing" >&2; exit 4; }
            case "$KUBERNETES_EXEC_INFO" in *'"apiVersion":"client.authentication.k8s.io/v1"'*'"interactive":false'*) ;; *) echo "bad exec info: $KUBERNETES_EXEC_INFO" >&2; exit 5;; esac
            case "$KUBERNETES_EXEC_INFO" in *'"cluster"'*) echo "cluster info not asked for" >&2; exit 6;; esac
            echo run >> runs
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$1"
            """);
        var kubeconfig = Kubeconfig("insecure-skip-tls-verify: true",
            $"exec: {{apiVersion: client.authentication.k8s.io/v1, command: ./{plugin}, args: [\"{fixture.Server.Token}\"], env: [{{name: EDGEOPS_TEST_GREETING, value: hello}}]}}");
        using var api = new KubeApi(KubeConfig.FromFiles([kubeconfig], null), Once);

        Assert.Equal(HttpStatusCode.OK, (await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None)).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/kube-system", null, null, CancellationToken.None)).Status);

        Assert.Equal(1, Runs());
    }

    [Fact]
    public async Task ExecPlugin_ProvideClusterInfo_PassesTheClusterInTheExecInfo()
    {
        var plugin = Plugin($$$"""
            case "$KUBERNETES_EXEC_INFO" in *'"cluster":{"server":"{{{fixture.Server.ServerUri.AbsoluteUri}}}"'*'"insecure-skip-tls-verify":true'*) ;; *) echo "no cluster in: $KUBERNETES_EXEC_INFO" >&2; exit 5;; esac
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"{{{fixture.Server.Token}}}"}}'
            """);
        var kubeconfig = Kubeconfig("insecure-skip-tls-verify: true", $"exec: {{apiVersion: client.authentication.k8s.io/v1, command: ./{plugin}, provideClusterInfo: true}}");
        using var api = new KubeApi(KubeConfig.FromFiles([kubeconfig], null), Once);

        Assert.Equal(HttpStatusCode.OK, (await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task ExecPlugin_ExpiredCredential_RunsAgainForTheNextRequest()
    {
        var plugin = Plugin($$$"""
            echo run >> runs
            printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"{{{fixture.Server.Token}}}","expirationTimestamp":"2020-01-01T00:00:00Z"}}'
            """);
        using var api = new KubeApi(KubeConfig.FromFiles([Kubeconfig("insecure-skip-tls-verify: true", $"exec: {{apiVersion: client.authentication.k8s.io/v1beta1, command: ./{plugin}}}")], null), Once);

        await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None);
        await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None);

        Assert.Equal(2, Runs());
    }

    [Fact]
    public async Task ExecPlugin_TokenTheServerRefuses_IsRenewedOnceWithinTheRequest()
    {
        // The first run gives a stale token, later runs the good one.
        var plugin = Plugin($$$"""
            echo run >> runs
            if [ "$(wc -l < runs)" -eq 1 ]; then token=stale-token; else token={{{fixture.Server.Token}}}; fi
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$token"
            """);
        using var api = new KubeApi(KubeConfig.FromFiles([Kubeconfig("insecure-skip-tls-verify: true", $"exec: {{apiVersion: client.authentication.k8s.io/v1, command: ./{plugin}}}")], null), Once);

        Assert.Equal(HttpStatusCode.OK, (await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None)).Status);
        Assert.Equal(2, Runs());
    }

    [Fact]
    public async Task ExecPlugin_ClientCertificate_IsPresentedInTheHandshake()
    {
        if (fixture.Server.ClientCa is not { } ca)
        {
            return; // an external cluster: its client authority's key is not ours
        }

        var (certificate, key) = Issue(ca, "CN=edgeops-exec-agent,O=system:masters");
        File.WriteAllText(Path.Combine(_dir, "credential.json"), new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "client.authentication.k8s.io/v1",
            ["kind"] = "ExecCredential",
            ["status"] = new System.Text.Json.Nodes.JsonObject { ["clientCertificateData"] = certificate, ["clientKeyData"] = key },
        }.ToJsonString());
        var plugin = Plugin("cat credential.json");
        using var api = new KubeApi(KubeConfig.FromFiles([Kubeconfig("insecure-skip-tls-verify: true", $"exec: {{apiVersion: client.authentication.k8s.io/v1, command: ./{plugin}}}")], null), Once);

        Assert.Equal(HttpStatusCode.OK, (await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None)).Status);
    }

    [Theory]
    [InlineData("echo 'no credentials for this profile' >&2; exit 3", "exited with 3: no credentials for this profile")]
    [InlineData("echo 'Unable to locate credentials'", "printed something that is not an ExecCredential")]
    [InlineData("echo '[\"ExecCredential\"]'", "printed JSON without kind ExecCredential and a status")]
    [InlineData("echo '{\"kind\":[1],\"status\":{}}'", "printed JSON without kind ExecCredential and a status")]
    [InlineData("echo '{\"kind\":\"ExecCredential\",\"status\":{}}'", "returned neither a token nor a client certificate")]
    [InlineData("echo '{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"soon\"}}'", "expirationTimestamp that is not a time: 'soon'")]
    [InlineData("echo '{\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"x\"}}'", "a client certificate without its key")]
    [InlineData("yes ExecCredential", "printed more than 1024 KiB")]
    public async Task ExecPlugin_Failing_IsAnUnavailableServerWithThePluginsWords(string script, string says)
    {
        var plugin = Plugin(script);
        using var api = new KubeApi(KubeConfig.FromFiles([Kubeconfig("insecure-skip-tls-verify: true", $"exec: {{apiVersion: client.authentication.k8s.io/v1, command: ./{plugin}}}")], null), Once);

        var ex = await Assert.ThrowsAsync<KubeUnavailableException>(() => api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None));

        Assert.Contains($"credential plugin './{plugin}' ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(says, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecPlugin_ThatLeavesAHelperRunning_IsDoneWhenItExits()
    {
        // Some plugins start a token-refreshing helper in the background, which inherits their output.
        var plugin = Plugin($$$"""
            sleep 30 &
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "{{{fixture.Server.Token}}}"
            """);
        using var api = new KubeApi(KubeConfig.FromFiles([Kubeconfig("insecure-skip-tls-verify: true", $"exec: {{apiVersion: client.authentication.k8s.io/v1, command: ./{plugin}}}")], null), Once);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var answer = await api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task ExecPlugin_NotInstalled_SaysHowToInstallIt()
    {
        var kubeconfig = Kubeconfig("insecure-skip-tls-verify: true",
            "exec: {apiVersion: client.authentication.k8s.io/v1, command: edgeops-no-such-plugin, installHint: \"install it with: apt install edgeops-no-such-plugin\"}");
        using var api = new KubeApi(KubeConfig.FromFiles([kubeconfig], null), Once);

        var ex = await Assert.ThrowsAsync<KubeUnavailableException>(() => api.RawAsync(HttpMethod.Get, "/api/v1/namespaces/default", null, null, CancellationToken.None));

        Assert.Contains("cannot be started", ex.Message, StringComparison.Ordinal);
        Assert.Contains("install it with: apt install edgeops-no-such-plugin", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>An executable shell script in this test's directory, run with the directory as its working directory.</summary>
    private string Plugin(string body)
    {
        var name = $"plugin-{Guid.NewGuid():N}.sh";
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, $"#!/bin/sh\ncd \"$(dirname \"$0\")\"\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return name;
    }

    private int Runs() => File.Exists(Path.Combine(_dir, "runs")) ? File.ReadAllLines(Path.Combine(_dir, "runs")).Length : 0;

    private string Kubeconfig(string cluster, string user)
    {
        var path = Path.Combine(_dir, $"kubeconfig-{Guid.NewGuid():N}");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster:
                server: {fixture.Server.ServerUri}
                {cluster}
            users:
            - name: agent
              user:
                {user}
            contexts:
            - name: test
              context: {"{"}cluster: test, user: agent{"}"}
            current-context: test

            """);
        return path;
    }

    private static string Base64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));

    private static (string Certificate, string Key) Issue(X509Certificate2 ca, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var certificate = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(12));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }
}

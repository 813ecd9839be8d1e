using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>
/// A real etcd, kube-apiserver and kube-controller-manager (v1.20.2) on loopback, envtest-style,
/// shared by the whole test run. The binaries come from scripts/kube-test-env.sh (KUBEBUILDER_ASSETS,
/// or built once from Debian's source package and cached). With EDGEOPS_TEST_REAL_CLUSTER=1 and KUBECONFIG set, the tests use that
/// cluster instead. If the server cannot be started the tests fail: they never skip silently.
/// </summary>
public sealed class KubeServer : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly string _directory;

    private KubeServer(string directory) => _directory = directory;

    public KubeConnection Configuration { get; private set; } = null!;

    public Uri ServerUri { get; private set; } = null!;

    public string Token { get; private set; } = string.Empty;

    /// <summary>Where the API server wrote its serving certificate (apiserver.crt, with the authority that signed it).</summary>
    public string CertificateDirectory => Path.Combine(_directory, "certs");

    /// <summary>The authority the API server trusts for client certificates (a certificate's CN is the user, its O the groups).</summary>
    public X509Certificate2? ClientCa { get; private set; }

    /// <summary>With this set to 1, the tests run against the cluster KUBECONFIG names; otherwise always against their own server.</summary>
    public const string RealClusterSwitch = "EDGEOPS_TEST_REAL_CLUSTER";

    /// <summary>True when the tests run against an external cluster (KUBECONFIG with EDGEOPS_TEST_REAL_CLUSTER=1).</summary>
    public bool IsExternal { get; private set; }

    public static async Task<KubeServer> StartAsync()
    {
        var server = new KubeServer(Path.Combine(Path.GetTempPath(), "edgeops-kube-" + Guid.NewGuid().ToString("N")[..10]));
        // An ambient KUBECONFIG (a developer's real cluster) is never used unless asked for explicitly.
        if (Environment.GetEnvironmentVariable(RealClusterSwitch) == "1"
            && Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } kubeconfig && File.Exists(kubeconfig))
        {
            server.Configuration = KubeConfig.FromFiles([kubeconfig], null);
            server.ServerUri = server.Configuration.Server;
            server.IsExternal = true;
            return server;
        }

        try
        {
            await server.StartLocalAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartLocalAsync()
    {
        var assets = Assets();
        Directory.CreateDirectory(_directory);
        var etcdClient = FreePort();
        var etcdPeer = FreePort();
        var securePort = FreePort();
        Token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

        using var rsa = RSA.Create(2048);
        var privateKey = Path.Combine(_directory, "sa.key");
        var publicKey = Path.Combine(_directory, "sa.pub");
        await File.WriteAllTextAsync(privateKey, rsa.ExportRSAPrivateKeyPem()).ConfigureAwait(false);
        await File.WriteAllTextAsync(publicKey, rsa.ExportSubjectPublicKeyInfoPem()).ConfigureAwait(false);
        using (var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=edgeops-test-client-ca", caKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            ClientCa = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        }

        var clientCaFile = Path.Combine(_directory, "client-ca.crt");
        await File.WriteAllTextAsync(clientCaFile, ClientCa.ExportCertificatePem()).ConfigureAwait(false);
        var tokens = Path.Combine(_directory, "tokens.csv");
        await File.WriteAllTextAsync(tokens, $"{Token},admin,admin-uid,system:masters\n").ConfigureAwait(false);

        Start(Path.Combine(assets, "etcd"), "etcd",
            "--data-dir", Path.Combine(_directory, "etcd"), "--name", "default",
            "--listen-client-urls", $"http://127.0.0.1:{etcdClient}", "--advertise-client-urls", $"http://127.0.0.1:{etcdClient}",
            "--listen-peer-urls", $"http://127.0.0.1:{etcdPeer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{etcdPeer}",
            "--initial-cluster", $"default=http://127.0.0.1:{etcdPeer}", "--unsafe-no-fsync");

        Start(Path.Combine(assets, "kube-apiserver"), "kube-apiserver",
            "--etcd-servers", $"http://127.0.0.1:{etcdClient}",
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
            "--secure-port", securePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--cert-dir", Path.Combine(_directory, "certs"),
            "--token-auth-file", tokens,
            "--client-ca-file", clientCaFile,
            "--authorization-mode", "RBAC",
            "--service-cluster-ip-range", "10.0.0.0/16",
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", publicKey,
            "--service-account-signing-key-file", privateKey,
            "--endpoint-reconciler-type", "none",
            "--disable-admission-plugins", "ServiceAccount",
            "--allow-privileged=true");

        ServerUri = new Uri($"https://127.0.0.1:{securePort}");
        Configuration = new KubeConnection { Server = new Uri(ServerUri.ToString()), Token = Token, SkipTlsVerify = true };
        await WaitReadyAsync(TimeSpan.FromSeconds(90)).ConfigureAwait(false);

        var kubeconfig = Path.Combine(_directory, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster: {"{"}server: "{ServerUri}", insecure-skip-tls-verify: true{"}"}
            users:
            - name: admin
              user: {"{"}token: "{Token}"{"}"}
            contexts:
            - name: test
              context: {"{"}cluster: test, user: admin{"}"}
            current-context: test

            """).ConfigureAwait(false);
        Start(Path.Combine(assets, "kube-controller-manager"), "kube-controller-manager",
            "--kubeconfig", kubeconfig, "--leader-elect=false", "--port", "0", "--secure-port", "0",
            "--service-account-private-key-file", privateKey, "--use-service-account-credentials=false",
            "--controllers", "*,-serviceaccount-token,-csrsigning,-csrapproving,-csrcleaner,-nodeipam,-route,-cloud-node-lifecycle");
    }

    /// <summary>Where kube-apiserver, kube-controller-manager and etcd are: KUBEBUILDER_ASSETS, or the provisioning script's cache.</summary>
    private static string Assets()
    {
        if (Environment.GetEnvironmentVariable("KUBEBUILDER_ASSETS") is { Length: > 0 } assets && File.Exists(Path.Combine(assets, "kube-apiserver")))
        {
            return assets;
        }

        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "EdgeOps.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("cannot find the checkout (EdgeOps.sln)");
        }

        var script = Path.Combine(root, "scripts", "kube-test-env.sh");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"cannot provision the test API server ({script}): {error}");
        }

        return output.Trim().Split('\n')[^1];
    }

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (_processes.FirstOrDefault(p => p.HasExited) is { } dead)
            {
                throw new InvalidOperationException($"{dead.StartInfo.FileName} exited with {dead.ExitCode}: {Tail(dead)}");
            }

            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ServerUri, "/readyz"));
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
                using var response = await http.SendAsync(request).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"HTTP {(int)response.StatusCode}";
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timeout";
            }

            await Task.Delay(250).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"kube-apiserver was not ready within {timeout.TotalSeconds}s ({last})");
    }

    private readonly Dictionary<Process, System.Text.StringBuilder> _logs = [];

    private void Start(string file, string name, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {name}");
        var log = new System.Text.StringBuilder();
        _logs[process] = log;
        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                if (log.Length > 64_000)
                {
                    log.Remove(0, 32_000);
                }

                log.AppendLine(line);
            }
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    private string Tail(Process process)
    {
        var log = _logs[process];
        lock (log)
        {
            var text = log.ToString();
            return text.Length > 2000 ? text[^2000..] : text;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        ClientCa?.Dispose();
        foreach (var process in Enumerable.Reverse(_processes))
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().ConfigureAwait(false);
                }
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }

        try
        {
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}

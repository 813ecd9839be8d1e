using System.Net;
using System.Text;
using System.Text.Json;
using EdgeOps.Collector.Storage;
using EdgeOps.Reconciler.Source;
using EdgeOps.Reconciler.Status;
using EdgeOps.Tests;
using EdgeOps.Trust.Ssh;
using Microsoft.AspNetCore.Builder;

namespace EdgeOps.Collector.Tests.Infrastructure;

/// <summary>A cluster's report key: the OpenSSH private key ssh-keygen made, its signer, and the public line a Cluster lists.</summary>
internal sealed class ReportKey : IDisposable
{
    private ReportKey(string path, SshSigner signer, string publicLine)
    {
        Path = path;
        Signer = signer;
        PublicLine = publicLine;
    }

    public string Path { get; }

    public SshSigner Signer { get; }

    public string PublicLine { get; }

    public static ReportKey Create(string folder, string name)
    {
        var path = SshSigning.NewKey(folder, name);
        return new ReportKey(path, SshSigner.FromOpenSsh(File.ReadAllText(path)), SshSigning.PublicKey(path));
    }

    /// <summary>The report as an agent sends it: the JSON body and its SSHSIG (namespace edgeops-report).</summary>
    public (string Body, string Signature) Sign(AgentReport report, string? @namespace = null)
    {
        var body = JsonSerializer.Serialize(report, CollectorJson.Default.AgentReport);
        return (body, Signer.Sign(Encoding.UTF8.GetBytes(body), @namespace ?? Reconciler.Pipeline.Reconciler.ReportNamespace));
    }

    public void Dispose() => Signer.Dispose();
}

/// <summary>
/// A running collector for one test: a fleet repo (real Git) whose clusters list report keys, a database
/// (SQLite file or a PostgreSQL database), the service and Kestrel on a loopback port.
/// </summary>
internal sealed class CollectorBed : IAsyncDisposable
{
    private CollectorBed(TempFleet repo, string state, ReportStore store, FleetRegistry registry, CollectorService service, WebApplication app)
    {
        Repo = repo;
        State = state;
        Store = store;
        Registry = registry;
        Service = service;
        App = app;
        Url = CollectorHost.Address(app);
        Client = new CollectorClient(Url);
    }

    public TempFleet Repo { get; }

    public string State { get; }

    public ReportStore Store { get; }

    public FleetRegistry Registry { get; }

    public CollectorService Service { get; }

    public WebApplication App { get; }

    public Uri Url { get; }

    public CollectorClient Client { get; }

    /// <summary>Starts a collector on <paramref name="repo"/> (committed); <paramref name="database"/> null: a SQLite file in the state folder.</summary>
    public static async Task<CollectorBed> StartAsync(TempFleet repo, string? database = null, TimeProvider? clock = null, CollectorSettings? settings = null)
    {
        var state = Directory.CreateTempSubdirectory("edgeops-collector-").FullName;
        var store = ReportStore.Open(database ?? "sqlite:" + Path.Combine(state, "collector.db"));
        await store.MigrateAsync(CancellationToken.None);
        var registry = new FleetRegistry(new GitSourceOptions { Url = repo.Root, Branch = "main", CacheDirectory = Path.Combine(state, "fleet.git") });
        registry.Refresh();
        var service = new CollectorService(settings ?? new CollectorSettings(), store, registry, clock);
        var app = CollectorHost.Build(service, new IPEndPoint(IPAddress.Loopback, 0));
        await app.StartAsync();
        return new CollectorBed(repo, state, store, registry, service, app);
    }

    public async Task<HttpResponseMessage> PostAsync(string body, string? signature)
    {
        using var http = new HttpClient { BaseAddress = Url };
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/reports") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation(CollectorClient.SignatureHeader, CollectorClient.CompactSignature(signature));
        }

        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await Service.DisposeAsync();
        await Store.DisposeAsync();
        Directory.Delete(State, recursive: true);
    }
}

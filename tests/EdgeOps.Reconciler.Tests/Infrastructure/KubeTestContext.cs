using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>Helpers for one test: its own namespaces, inventory and objects parsed from YAML.</summary>
internal sealed class KubeTestContext : IDisposable
{
    public KubeTestContext(KubeServer server, string? host = null)
    {
        Suffix = Guid.NewGuid().ToString("N")[..8];
        var configuration = server.Configuration;
        if (host is not null)
        {
            configuration = new KubeConnection { Server = new Uri(host), Token = server.Token, SkipTlsVerify = true };
        }

        Api = new KubeApi(configuration, new KubeApiOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(500) });
        Store = new InventoryStore(Api, "edgeops-" + Suffix);
        Engine = new ApplyEngine(Api, Store);
    }

    public string Suffix { get; }

    public KubeApi Api { get; }

    public InventoryStore Store { get; }

    public ApplyEngine Engine { get; }

    public ApplyOptions Options(string? revision = null) => new() { Fleet = "test-fleet", Revision = revision, StageTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>Objects from YAML, with ${n} replaced by this test's suffix and the ownership labels added.</summary>
    public IReadOnlyList<RenderedObject> Objects(string yaml, string file = "manifests.yaml")
    {
        var bag = new DiagnosticBag();
        var documents = YamlReader.ReadDocuments(file, yaml.Replace("${n}", Suffix, StringComparison.Ordinal), bag);
        Assert.Empty(bag.ToSortedList());
        return [.. documents.OfType<MappingNode>().Select(d =>
        {
            var body = Renderer.Ownership(d, ("edgeops.io/workload", "test"), ("edgeops.io/fleet", "test-fleet"));
            var id = ObjectIdentity.From(body);
            return new RenderedObject(id, body, "test", "Workload", KindOrder.IsKnownClusterScoped(id.Kind) || id.Kind == "Widget");
        })];
    }

    public async Task<System.Text.Json.Nodes.JsonObject?> GetAsync(string apiVersion, string kind, string? ns, string name)
    {
        var resource = await Api.ResolveAsync(apiVersion, kind, CancellationToken.None);
        return resource is null ? null : await Api.GetAsync(resource, resource.Namespaced ? ns : null, name, CancellationToken.None);
    }

    public void Dispose() => Api.Dispose();
}

using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Tests;

namespace EdgeOps.Fleet.Tests.Rendering;

public sealed class RendererTests
{
    private static MappingNode Object(RenderResult result, string kind, string name) =>
        result.State.Objects.Single(o => o.Id.Kind == kind && o.Id.Name == name).Body;

    private static string? Data(MappingNode configMap, string key) => ((MappingNode)configMap["data"]!)[key] is ScalarNode s ? s.Value : null;

    [Fact]
    public void Render_Values_SubstituteClusterFactsAndWorkloadValues()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("robot-1", "tier: micro\nsite: alcarras", "values: {zone: z9}");
        fleet.Workload("app", "values: {model: apple-v7, replicas: 3, nested: {deep: x}}", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: app-${cluster.name}
            data:
              site: ${cluster.labels.site}
              model: ${values.model}
              deep: ${values.nested.deep}
              zone: ${cluster.values.zone}
              both: "${workload.name}@${fleet.name}"
              literal: $${not.replaced}
            """);

        var cm = Object(TestFleets.Render(fleet, "robot-1"), "ConfigMap", "app-robot-1");

        Assert.Equal("alcarras", Data(cm, "site"));
        Assert.Equal("apple-v7", Data(cm, "model"));
        Assert.Equal("x", Data(cm, "deep"));
        Assert.Equal("z9", Data(cm, "zone"));
        Assert.Equal("app@test-fleet", Data(cm, "both"));
        Assert.Equal("${not.replaced}", Data(cm, "literal"));
    }

    [Fact]
    public void Render_WholeScalarVariable_KeepsTheValueTypeUnlessQuoted()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("app", "values: {replicas: 3, resources: {cpu: 100m}}", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: app
            spec:
              replicas: ${values.replicas}
              text: "${values.replicas}"
              resources: ${values.resources}
            """);

        var spec = (MappingNode)Object(TestFleets.Render(fleet, "a"), "Deployment", "app")["spec"]!;

        Assert.Equal(ScalarKind.Int, ((ScalarNode)spec["replicas"]!).Kind);
        Assert.Equal(ScalarKind.String, ((ScalarNode)spec["text"]!).Kind);
        Assert.Equal("100m", ((MappingNode)spec["resources"]!).GetString("cpu"));
    }

    [Fact]
    public void Render_UnknownVariable_IsLocatedAtTheExactColumnAndNamesTheCluster()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("app", manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: prefix-${cluster.labels.site}\n");

        var load = TestFleets.Load(fleet);
        var result = new Renderer(load.Fleet).Render(load.Fleet.Clusters.Single());

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(Codes.UnknownVariable, d.Code);
        Assert.Equal(new SourceLocation("workloads/app/manifest.yaml", 6, 13), d.Location);
        Assert.Equal(["a"], d.Clusters);
        Assert.StartsWith("unknown variable 'cluster.labels.site'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Overlays_ApplyOnlyToMatchingClusters()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("far-1", "tier: far");
        fleet.Cluster("micro-1", "tier: micro");
        fleet.Workload("app", """
            overlays:
              - name: small
                clusterSelector: {matchLabels: {tier: micro}}
                patches:
                  - target: {kind: ConfigMap, name: app}
                    merge: {data: {size: small, key: null}}
                  - target: {kind: ConfigMap}
                    json:
                      - {op: add, path: /data/cluster, value: "${cluster.name}"}
            """);

        var far = Object(TestFleets.Render(fleet, "far-1"), "ConfigMap", "app");
        var micro = Object(TestFleets.Render(fleet, "micro-1"), "ConfigMap", "app");

        Assert.Equal("value", Data(far, "key"));
        Assert.Null(Data(far, "size"));
        Assert.Equal("small", Data(micro, "size"));
        Assert.Null(Data(micro, "key"));
        Assert.Equal("micro-1", Data(micro, "cluster"));
    }

    [Fact]
    public void Render_OwnershipLabelsAndNamespace_AreAddedWithoutTouchingTheRest()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("app", "namespace: vision", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    team: a\ndata: {k: v}\n");

        var cm = Object(TestFleets.Render(fleet, "a"), "ConfigMap", "x");
        var metadata = (MappingNode)cm["metadata"]!;

        Assert.Equal(["name", "namespace", "labels"], metadata.Entries.Select(e => e.Key.Value));
        Assert.Equal("vision", metadata.GetString("namespace"));
        var labels = (MappingNode)metadata["labels"]!;
        Assert.Equal("a", labels.GetString("team"));
        Assert.Equal("app", labels.GetString("edgeops.io/workload"));
        Assert.Equal("test-fleet", labels.GetString("edgeops.io/fleet"));
        Assert.Null(labels["edgeops.io/revision"]);
    }

    [Fact]
    public void Render_ClusterScopedKinds_GetNoNamespace_IncludingCustomClusterScopedKinds()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("app", "namespace: ns", """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: sites.example.com}
            spec: {group: example.com, scope: Cluster, names: {kind: Site, plural: sites}}
            ---
            apiVersion: example.com/v1
            kind: Site
            metadata: {name: s}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: r}
            ---
            apiVersion: example.com/v1
            kind: Unknown
            metadata: {name: u}
            """);

        var objects = TestFleets.Render(fleet, "a").State.Objects.ToDictionary(o => o.Id.Kind, o => o.Id.Namespace);

        Assert.Null(objects["CustomResourceDefinition"]);
        Assert.Null(objects["Site"]);
        Assert.Null(objects["ClusterRole"]);
        Assert.Equal("ns", objects["Unknown"]);
    }

    [Fact]
    public void Render_Order_IsCrdsNamespacesClusterScopedThenTheRest()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("app", manifest: """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: w}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: s}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: r}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: n}
            ---
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: c.example.com}
            spec: {group: example.com, scope: Namespaced, names: {kind: C}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: cm}
            """);

        var kinds = TestFleets.Render(fleet, "a").State.Objects.Select(o => o.Id.Kind);

        Assert.Equal(["CustomResourceDefinition", "Namespace", "ClusterRole", "ConfigMap", "Service", "Deployment", "ValidatingWebhookConfiguration"], kinds);
    }

    [Fact]
    public void Render_SameInputs_GiveTheSameBytes()
    {
        var first = TestFleetsFromExample("robot-es-0001");
        var second = TestFleetsFromExample("robot-es-0001");
        Assert.Equal(first, second);
        Assert.Contains("kind: Configuration", first, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_TwoWorkloadsWithOneObject_IsADuplicateAtBothPlaces()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Workload("one", manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, namespace: x}\n");
        fleet.Workload("two", manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, namespace: x}\n");

        var load = TestFleets.Load(fleet);
        var result = new Renderer(load.Fleet).Render(load.Fleet.Clusters.Single());

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(Codes.DuplicateObject, d.Code);
        Assert.Equal("workloads/two/manifest.yaml", d.Location.Path);
        Assert.Equal("workloads/one/manifest.yaml", d.Related.Single().Path);
        Assert.Single(result.State.Objects);
    }

    [Fact]
    public void Render_DeviceConfig_BecomesAnAkriConfiguration()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("robot", "tier: micro", "devices: [{class: usb-camera, count: 1}]");
        fleet.Write("devices/cam.yaml", """
            apiVersion: edgeops.io/v1alpha1
            kind: DeviceConfig
            metadata: {name: usb-camera}
            spec:
              placement: {clusterSelector: {matchLabels: {tier: micro}}}
              discovery:
                handler: udev
                details: {udevRules: ['KERNEL=="video[0-9]*"']}
              capacity: 2
              broker:
                pod:
                  containers: [{name: b, image: broker:1}]
              services:
                instance: {ports: [{port: 80}]}
              brokerProperties: {RESOLUTION: "640x480"}
            """);

        var akri = Object(TestFleets.Render(fleet, "robot"), "Configuration", "usb-camera");

        Assert.Equal("akri.sh/v0", akri.GetString("apiVersion"));
        var spec = (MappingNode)akri["spec"]!;
        var handler = (MappingNode)spec["discoveryHandler"]!;
        Assert.Equal("udev", handler.GetString("name"));
        Assert.Equal("udevRules:\n- KERNEL==\"video[0-9]*\"\n", handler.GetString("discoveryDetails"));
        Assert.Equal("2", ((ScalarNode)spec["capacity"]!).Value);
        Assert.NotNull(((MappingNode)spec["brokerSpec"]!)["brokerPodSpec"]);
        Assert.NotNull(spec["instanceServiceSpec"]);
        Assert.Equal("640x480", ((MappingNode)spec["brokerProperties"]!).GetString("RESOLUTION"));
        Assert.Equal("akri", ((MappingNode)akri["metadata"]!).GetString("namespace"));
    }

    [Fact]
    public void Render_StaticManifests_AreSharedAcrossClusters()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a");
        fleet.Cluster("b");
        fleet.Workload("app");
        var load = TestFleets.Load(fleet);
        var renderer = new Renderer(load.Fleet);

        var a = renderer.Render(load.Fleet.Clusters[0]).State.Objects.Single().Body;
        var b = renderer.Render(load.Fleet.Clusters[1]).State.Objects.Single().Body;

        Assert.Equal(JsonText.Write(a), JsonText.Write(b));
        // The whole object, namespace included, is one node: its digest and policy outcomes are worked out once.
        Assert.Same(a, b);
        Assert.Equal("default", ((MappingNode)a["metadata"]!).GetString("namespace"));
    }

    [Fact]
    public void Render_StaticManifestPatchedOnOneCluster_IsPatchedThereOnly_AndStillSharedByTheOthers()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a", "tier: far").Cluster("b", "tier: micro").Cluster("c", "tier: far");
        fleet.Workload("app", "namespace: apps\noverlays:\n  - name: small\n    clusterSelector: {matchLabels: {tier: micro}}\n    patches:\n      - target: {kind: ConfigMap}\n        merge: {data: {size: small}}");
        var load = TestFleets.Load(fleet);
        var renderer = new Renderer(load.Fleet);

        MappingNode Body(int i) => renderer.Render(load.Fleet.Clusters[i]).State.Objects.Single().Body;
        var (a, b, c) = (Body(0), Body(1), Body(2));

        Assert.Same(a, c);
        Assert.NotSame(a, b);
        Assert.Equal("small", ((MappingNode)b["data"]!).GetString("size"));
        Assert.Null(((MappingNode)a["data"]!).GetString("size"));
        Assert.All(new[] { a, b }, o => Assert.Equal("apps", ((MappingNode)o["metadata"]!).GetString("namespace")));
    }

    private static (Fleet.Model.FleetModel Fleet, Renderer Renderer) Renderer(TempFleet fleet)
    {
        var load = TestFleets.Load(fleet);
        Assert.DoesNotContain(load.Diagnostics, d => d.IsError);
        return (load.Fleet, new Renderer(load.Fleet));
    }

    [Fact]
    public void Render_ManifestWithVariables_IsOneNodeForClustersWhoseVariablesAgree_AndItsOwnForTheOthers()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a", "tier: far").Cluster("b", "tier: micro").Cluster("c", "tier: far");
        fleet.Workload("app", "values: {image: registry.example.com/app:1.0}", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: app
            data:
              tier: ${cluster.labels.tier}
              image: ${values.image}
            """);
        var (model, renderer) = Renderer(fleet);

        MappingNode Body(int i) => renderer.Render(model.Clusters[i]).State.Objects.Single().Body;
        var (a, b, c) = (Body(0), Body(1), Body(2));

        // Same tier, same image: the same node, namespace included, so its digest and policy outcomes are made once.
        Assert.Same(a, c);
        Assert.NotSame(a, b);
        Assert.Equal(("far", "micro"), (Data(a, "tier"), Data(b, "tier")));
        Assert.Equal("registry.example.com/app:1.0", Data(b, "image"));
        Assert.Same(a, Body(0));
    }

    [Fact]
    public void Render_ValueFromTheClustersOwnFile_PointsAtThatFile_OnEveryCluster()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a", spec: "values: {zone: z1}").Cluster("b", spec: "values: {zone: z1}");
        fleet.Workload("app", string.Empty, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  zone: ${cluster.values.zone}\n");
        var (model, renderer) = Renderer(fleet);

        foreach (var cluster in model.Clusters)
        {
            var zone = (ScalarNode)((MappingNode)renderer.Render(cluster).State.Objects.Single().Body["data"]!)["zone"]!;
            Assert.Equal("z1", zone.Value);
            Assert.Equal(cluster.Location.Path, zone.Location.Path);
        }
    }

    [Fact]
    public void Render_ProblemInAManifest_IsReportedForEveryCluster_NotOnlyTheFirst()
    {
        using var fleet = new TempFleet();
        fleet.Cluster("a").Cluster("b").Cluster("c");
        fleet.Workload("app", "values: {image: x}", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  image: ${values.image}\n  bad: ${values.missing}\n");
        var load = TestFleets.Load(fleet);
        var renderer = new Renderer(load.Fleet);

        foreach (var cluster in load.Fleet.Clusters)
        {
            var result = renderer.Render(cluster);
            var problem = Assert.Single(result.Diagnostics, d => d.Code == Codes.UnknownVariable);
            Assert.Equal([cluster.Name], problem.Clusters);
        }
    }

    [Fact]
    public void Render_OverlayOnASharedBody_IsOneNodeWherePatchedAlike_AndRightOnEveryCluster()
    {
        using var fleet = new TempFleet();
        for (var i = 0; i < 6; i++)
        {
            fleet.Cluster($"c{i}", i % 2 == 0 ? "tier: micro" : "tier: far");
        }

        fleet.Workload("app", "values: {replicas: 3}\noverlays:\n  - name: small\n    clusterSelector: {matchLabels: {tier: micro}}\n    patches:\n      - target: {kind: Deployment}\n        merge: {spec: {replicas: 1}}",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: ${values.replicas}\n");
        var (model, renderer) = Renderer(fleet);

        var bodies = model.Clusters.Select(c => renderer.Render(c).State.Objects.Single().Body).ToList();

        Assert.All(bodies.Where((_, i) => i % 2 == 0), b => Assert.Same(bodies[0], b));
        Assert.All(bodies.Where((_, i) => i % 2 == 1), b => Assert.Same(bodies[1], b));
        Assert.Equal(("1", "3"), (((MappingNode)bodies[0]["spec"]!).GetString("replicas"), ((MappingNode)bodies[1]["spec"]!).GetString("replicas")));
    }

    [Fact]
    public void Render_ManifestNamingItsCluster_StaysRightPastTheMemosTrial()
    {
        // Every rendering differs: the memo gives up on it after its trial, and each cluster still gets its own.
        using var fleet = new TempFleet();
        for (var i = 0; i < 150; i++)
        {
            fleet.Cluster($"c{i:D3}");
        }

        fleet.Workload("app", string.Empty, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  cluster: ${cluster.name}\n");
        var (model, renderer) = Renderer(fleet);

        foreach (var cluster in model.Clusters)
        {
            Assert.Equal(cluster.Name, Data(renderer.Render(cluster).State.Objects.Single().Body, "cluster"));
        }
    }

    private static string TestFleetsFromExample(string cluster)
    {
        using var source = new Fleet.Sources.DirectoryFleetSource(RepoPaths.ExampleFleet);
        var load = new Fleet.Loading.FleetLoader().Load(source);
        return new Renderer(load.Fleet).Render(load.Fleet.FindCluster(cluster)!).State.ToYaml();
    }
}

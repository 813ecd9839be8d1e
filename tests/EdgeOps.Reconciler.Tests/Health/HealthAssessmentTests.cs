using System.Text.Json.Nodes;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Health;

namespace EdgeOps.Reconciler.Tests.Health;

public sealed class HealthAssessmentTests
{
    private static (HealthStatus, string) Assess(string group, string kind, string json) =>
        HealthChecker.Assess(new ObjectIdentity(group, "v1", kind, "ns", "x"), (JsonObject)JsonNode.Parse(json)!);

    [Theory]
    [InlineData("""{"metadata":{"generation":2},"spec":{"replicas":3},"status":{"observedGeneration":2,"replicas":3,"updatedReplicas":3,"availableReplicas":3}}""", HealthStatus.Healthy)]
    [InlineData("""{"metadata":{"generation":3},"spec":{"replicas":3},"status":{"observedGeneration":2,"replicas":3,"updatedReplicas":3,"availableReplicas":3}}""", HealthStatus.Progressing)]
    [InlineData("""{"metadata":{"generation":2},"spec":{"replicas":3},"status":{"observedGeneration":2,"replicas":4,"updatedReplicas":3,"availableReplicas":3}}""", HealthStatus.Progressing)]
    [InlineData("""{"metadata":{"generation":2},"spec":{},"status":{"observedGeneration":2,"replicas":1,"updatedReplicas":1,"availableReplicas":0}}""", HealthStatus.Progressing)]
    [InlineData("""{"metadata":{"generation":2},"spec":{"replicas":1},"status":{"observedGeneration":2,"conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded"}]}}""", HealthStatus.Failed)]
    public void Deployment(string json, HealthStatus expected) => Assert.Equal(expected, Assess("apps", "Deployment", json).Item1);

    [Theory]
    [InlineData("""{"metadata":{"generation":1},"spec":{"replicas":2},"status":{"observedGeneration":1,"readyReplicas":2,"currentRevision":"a","updateRevision":"a"}}""", HealthStatus.Healthy)]
    [InlineData("""{"metadata":{"generation":1},"spec":{"replicas":2},"status":{"observedGeneration":1,"readyReplicas":2,"currentRevision":"a","updateRevision":"b"}}""", HealthStatus.Progressing)]
    public void StatefulSet(string json, HealthStatus expected) => Assert.Equal(expected, Assess("apps", "StatefulSet", json).Item1);

    [Theory]
    [InlineData("""{"metadata":{"generation":1},"status":{"observedGeneration":1,"desiredNumberScheduled":2,"updatedNumberScheduled":2,"numberAvailable":2}}""", HealthStatus.Healthy)]
    [InlineData("""{"metadata":{"generation":1},"status":{"observedGeneration":1,"desiredNumberScheduled":2,"updatedNumberScheduled":2,"numberAvailable":1}}""", HealthStatus.Progressing)]
    public void DaemonSet(string json, HealthStatus expected) => Assert.Equal(expected, Assess("apps", "DaemonSet", json).Item1);

    [Theory]
    [InlineData("""{"status":{"conditions":[{"type":"Complete","status":"True"}]}}""", HealthStatus.Healthy)]
    [InlineData("""{"status":{"active":1}}""", HealthStatus.Progressing)]
    [InlineData("""{"status":{"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit"}]}}""", HealthStatus.Failed)]
    public void Job(string json, HealthStatus expected) => Assert.Equal(expected, Assess("batch", "Job", json).Item1);

    [Theory]
    [InlineData("""{"status":{"conditions":[{"type":"Ready","status":"True"}]}}""", HealthStatus.Healthy)]
    [InlineData("""{"status":{"conditions":[{"type":"Ready","status":"False","message":"camera offline"}]}}""", HealthStatus.Progressing)]
    [InlineData("""{"spec":{}}""", HealthStatus.Healthy)]
    public void CustomResource(string json, HealthStatus expected) => Assert.Equal(expected, Assess("example.com", "Gadget", json).Item1);

    [Theory]
    [InlineData("""{"status":"ok"}""")]
    [InlineData("""{"status":["Ready"]}""")]
    [InlineData("""{"status":{"conditions":"Ready"}}""")]
    [InlineData("""{"status":{"conditions":["Ready", 7, null]}}""")]
    [InlineData("""{"status":{"conditions":[{"type":["Ready"],"status":"False"}]}}""")]
    [InlineData("""{"status":{"conditions":[{"type":7,"status":"False"}]}}""")]
    public void CustomResource_WhoseStatusHasAnotherShape_HasNoConditions_AndExists(string json) =>
        Assert.Equal((HealthStatus.Healthy, "exists"), Assess("example.com", "Gadget", json));

    [Theory]
    [InlineData("""{"metadata":{"generation":[1]},"spec":"three","status":{"observedGeneration":"1","replicas":3}}""")]
    [InlineData("""{"metadata":"x","spec":[],"status":7}""")]
    public void WorkloadWithFieldsOfAnotherShape_IsProgressing_NotAnError(string json) =>
        Assert.Equal(HealthStatus.Progressing, Assess("apps", "Deployment", json).Item1);

    [Fact]
    public void CustomResourceNotReady_SaysWhy() =>
        Assert.Equal("Ready=False: camera offline", Assess("example.com", "Gadget", """{"status":{"conditions":[{"type":"Ready","status":"False","message":"camera offline"}]}}""").Item2);
}

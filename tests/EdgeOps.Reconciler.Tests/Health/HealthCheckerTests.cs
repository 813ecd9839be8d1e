using EdgeOps.Reconciler.Health;
using EdgeOps.Reconciler.Tests.Infrastructure;

namespace EdgeOps.Reconciler.Tests.Health;

[Collection("kube")]
public sealed class HealthCheckerTests(KubeServerFixture fixture)
{
    [Fact]
    [Trait("Category", "RealCluster")]
    public async Task Wait_DeploymentBecomesAvailable_WhenItsPodsAreReady()
    {
        using var test = new KubeTestContext(fixture.Server);
        var objects = test.Objects("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: health-${n}}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: health-${n}}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: web, image: "nginx:1.27"}]
            """);
        await test.Engine.ApplyAsync(objects, test.Options(), CancellationToken.None);
        var health = new HealthChecker(test.Api);
        var notYet = await health.CheckAsync([.. objects.Select(o => o.Id)], CancellationToken.None);
        Assert.Equal(HealthStatus.Progressing, notYet.Culprit!.Status);

        if (!fixture.Server.IsExternal)
        {
            var deployments = (await test.Api.ResolveAsync("apps/v1", "Deployment", CancellationToken.None))!;
            await Kubelet.MarkDeploymentAvailableAsync(test.Api, deployments, $"health-{test.Suffix}", "web");
        }

        var report = await health.WaitAsync([.. objects.Select(o => o.Id)], TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.True(report.Healthy, report.Culprit?.Reason);
    }

    [Fact]
    public async Task Wait_FailedJob_FailsAtOnceWithItsReason()
    {
        using var test = new KubeTestContext(fixture.Server);
        var objects = test.Objects("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: jobfail-${n}}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata: {name: migrate, namespace: jobfail-${n}}
            spec:
              backoffLimit: 0
              activeDeadlineSeconds: 1
              template:
                spec:
                  restartPolicy: Never
                  containers: [{name: m, image: "busybox:1.36"}]
            """);
        // No kubelet runs the pod, so the job controller itself fails the Job once its deadline passes.
        await test.Engine.ApplyAsync(objects, test.Options(), CancellationToken.None);

        var started = DateTime.UtcNow;
        var report = await new HealthChecker(test.Api).WaitAsync([.. objects.Select(o => o.Id)], TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.False(report.Healthy);
        Assert.Equal(("Job", HealthStatus.Failed), (report.Culprit!.Id.Kind, report.Culprit.Status));
        Assert.Contains("deadline", report.Culprit.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(25), "a failed Job must not wait for the timeout");
    }
}

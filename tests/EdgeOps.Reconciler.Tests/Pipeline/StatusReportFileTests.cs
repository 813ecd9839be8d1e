using EdgeOps.Reconciler.Status;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>status.json as older agents wrote it, and as this one writes it, reads back whole.</summary>
public sealed class StatusReportFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgeops-status-").FullName;

    [Fact]
    public void Read_AReportWithoutTheOptionalLists_HasEmptyLists()
    {
        var path = Path.Combine(_dir, "status.json");
        File.WriteAllText(path, """{"schema": "edgeops.io/status-report/v1", "cluster": "edge-1", "repository": "r", "outcome": "Unchanged", "message": "m", "time": "2026-11-29T08:00:00+00:00"}""");

        var report = StatusReport.Read(path)!;

        Assert.Empty(report.Conditions);
        Assert.Empty(report.Violations);
        Assert.Empty(report.FailedObjects);
        Assert.Empty(report.DriftCorrected);
        Assert.Empty(report.Counts);
    }

    [Fact]
    public void TheConfigMapsCopy_OfAPassThatFailedThousandsOfObjects_IsAbridged_SayingWhatItLeftOut()
    {
        var report = new StatusReport
        {
            Cluster = "hub-1",
            Repository = "r",
            Outcome = "RolledBack",
            Message = "apply failed",
            FailedObjects = [.. Enumerable.Range(0, 4000).Select(i => new FailedObject($"Widget.widgets.example.com orchard/widget-{i:0000}", "the API server does not serve widgets.example.com/v1 Widget (is its CRD applied?)", $"workloads/w/objects.yaml:{i * 4 + 1}:1"))],
            Violations = ["one"],
        };

        var fitted = System.Text.Json.JsonSerializer.Deserialize(StatusPublisher.Fitted(report), Serialization.StatusJson.Default.StatusReport)!;
        var small = report with { FailedObjects = report.FailedObjects[..3] };

        Assert.True(report.ToJson().Length > StatusPublisher.MaxConfigMapReportChars);
        Assert.Equal(report.FailedObjects.Take(StatusPublisher.AbridgedItems), fitted.FailedObjects.AsEnumerable());
        Assert.Equal(["one"], fitted.Violations.AsEnumerable());
        Assert.Equal("4000 failed objects, 1 violations and 0 corrected drifts: the first 50 of each are listed here, all of them in status.json in the agent's state folder", fitted.Abridged);
        Assert.Equal(small.ToJson(), StatusPublisher.Fitted(small));
        Assert.DoesNotContain("abridged", small.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void SaveThenRead_RoundTripsEveryField()
    {
        var report = new StatusReport
        {
            Cluster = "edge-1",
            Repository = "https://git.example.com/fleet.git",
            AppliedRevision = "abc",
            Outcome = "Applied",
            Message = "applied 3 objects",
            Conditions = [new StatusCondition("Ready", "True", "Applied", "ok")],
            Violations = ["v"],
            FailedObjects = [],
            DriftCorrected = ["ConfigMap/x by kubectl"],
            Counts = new Dictionary<string, int> { ["created"] = 3 },
            DurationSeconds = 1.5,
            Time = new DateTimeOffset(2026, 11, 29, 8, 0, 0, TimeSpan.Zero),
        };
        report.Save(_dir);

        var read = StatusReport.Read(Path.Combine(_dir, "status.json"))!;

        Assert.Equal(report.ToJson(), read.ToJson());
        Assert.Contains("\"schema\": \"edgeops.io/status-report/v1\"", read.ToJson(), StringComparison.Ordinal);
        Assert.DoesNotContain("offlineSince", read.ToJson(), StringComparison.Ordinal); // nulls are left out
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

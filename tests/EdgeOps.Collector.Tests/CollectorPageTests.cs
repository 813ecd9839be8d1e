using System.Text;
using System.Text.RegularExpressions;
using EdgeOps.Collector.Tests.Infrastructure;
using EdgeOps.Reconciler.Status;
using EdgeOps.Tests;

namespace EdgeOps.Collector.Tests;

/// <summary>
/// The fleet page in headless Chromium, served by a collector fed with signed reports: the counts it shows, the
/// clusters it places on the map, the table and the waves match what GET /v1/clusters and the rollout say; no map
/// tile or other outside resource is needed; a screenshot is produced.
/// </summary>
public sealed partial class CollectorPageTests : IDisposable
{
    private readonly TempFleet _repo = new(withFleet: false);
    private readonly string _root = Directory.CreateTempSubdirectory("edgeops-page-").FullName;

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task FleetPage_ShowsWhatTheApiLists_OnAMap_InATable_AndWaveByWave()
    {
        using var key = ReportKey.Create(_root, "fleet-key");
        _repo.WaveFleet([("canary", "canary"), ("main", "main")], rollout: "maxFailures: 5");
        var clusters = new StringBuilder();
        for (var i = 0; i < 40; i++)
        {
            // Spread over Spain, Italy and New Zealand; the last five declare no location.
            var (lat, lon) = (i % 3) switch { 0 => (41.0 + (i * 0.05), 0.5), 1 => (44.5, 11.0 + (i * 0.05)), _ => (-39.5, 176.8) };
            var location = i < 35 ? $"  location: {{lat: {lat:0.###}, lon: {lon:0.###}}}\n" : string.Empty;
            clusters.Append($"apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: robot-{i:D2}\n  labels: {{ring: {(i < 4 ? "canary" : "main")}}}\nspec:\n{location}  reportKey: \"{key.PublicLine}\"\n---\n");
        }

        _repo.Write("clusters/all.yaml", clusters.ToString());
        var head = _repo.Commit("fleet");
        await using var bed = await CollectorBed.StartAsync(_repo);
        for (var i = 0; i < 30; i++)
        {
            // 20 healthy on the head, 4 waiting, 6 failed; 10 never report.
            var (outcome, applied) = i < 20 ? ("Applied", head) : i < 24 ? ("Waiting", "older") : ("Failed", "older");
            var (body, signature) = key.Sign(new AgentReport
            {
                Cluster = $"robot-{i:D2}",
                Sequence = 1,
                Applied = applied,
                Attempted = i >= 24 ? head : applied,
                Outcome = outcome,
                Healthy = outcome != "Failed",
                Message = $"pass {i}",
                Rollout = new RolloutPosition { Revision = head, Wave = i < 4 ? 0 : 1, WaveName = i < 4 ? "canary" : "main", Verdict = outcome == "Waiting" ? "Wait" : "Proceed" },
            });
            await bed.Client.SendReportAsync(body, signature, CancellationToken.None);
        }

        var rows = await bed.Client.GetClustersAsync(null, CancellationToken.None);
        var rollout = await bed.Client.GetRolloutAsync(head, CancellationToken.None);

        var dom = await HeadlessChromium.DumpDomAsync(bed.Url, Path.Combine(_root, "profile"));

        Assert.Contains("data-loaded=\"true\"", dom, StringComparison.Ordinal);
        Assert.Equal(rows.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Text(dom, "count-total"));
        Assert.Equal(rows.Count(r => r.Report is { Healthy: true, Outcome: "Applied" }), Count(dom, "count-ok"));
        Assert.Equal(rows.Count(r => r.Report?.Outcome == "Waiting"), Count(dom, "count-waiting"));
        Assert.Equal(rows.Count(r => r.Report?.Outcome == "Failed"), Count(dom, "count-failed"));
        Assert.Equal(rows.Count(r => r.Silent), Count(dom, "count-silent"));
        Assert.Equal(rows.Count(r => r.Lat is not null), int.Parse(Attribute(dom, "svg", "data-placed"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(CountryPath().Count(dom) > 150, "country outlines are drawn from the packaged dataset");
        Assert.Equal(rows.Count, ClusterRow().Count(dom));
        Assert.Equal(rollout.Waves.Select(w => w.Name), WaveDiv().Matches(dom).Select(m => m.Groups[1].Value));
        Assert.Contains($"gate-{rollout.Waves[0].Gate}", dom, StringComparison.Ordinal);

        var screenshot = Path.Combine(_root, "fleet.png");
        await HeadlessChromium.ScreenshotAsync(bed.Url, screenshot, Path.Combine(_root, "profile"));
        var png = await File.ReadAllBytesAsync(screenshot);
        if (Environment.GetEnvironmentVariable("EDGEOPS_KEEP_SCREENSHOT") is { } keep)
        {
            File.Copy(screenshot, keep, overwrite: true);
        }

        Assert.True(png.Length > 10_000 && png.AsSpan(1, 3).SequenceEqual("PNG"u8), $"a screenshot of the page ({png.Length} bytes)");
    }

    [Fact]
    public async Task FleetPage_ShowsAWaveNameThatLooksLikeMarkup_AsText()
    {
        using var key = ReportKey.Create(_root, "fleet-key");
        // Any text is a valid wave name in the fleet repo; the page must not run it.
        _repo.WaveFleet([("\"<img src=x onerror=document.body.setAttribute('data-pwned','yes')>\"", "canary"), ("main", "main")]);
        _repo.Write("clusters/robot.yaml", $"apiVersion: edgeops.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: robot-1\n  labels: {{ring: canary}}\nspec:\n  reportKey: \"{key.PublicLine}\"\n");
        _repo.Commit("fleet");
        await using var bed = await CollectorBed.StartAsync(_repo);

        var dom = await HeadlessChromium.DumpDomAsync(bed.Url, Path.Combine(_root, "profile"));

        Assert.Contains("data-loaded=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("<strong>&lt;img src=x onerror=document.body.setAttribute('data-pwned','yes')&gt;</strong>", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("data-pwned", dom.Replace("setAttribute('data-pwned'", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    private static string Text(string dom, string id) => Regex.Match(dom, $"id=\"{id}\"[^>]*>([^<]*)<").Groups[1].Value;

    private static int Count(string dom, string id) =>
        int.Parse(Regex.Match(dom, $"id=\"{id}\" data-count=\"(\\d+)\"").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    private static string Attribute(string dom, string element, string attribute) => Regex.Match(dom, $"<{element}[^>]*{attribute}=\"([^\"]*)\"").Groups[1].Value;

    [GeneratedRegex("<path class=\"country\"")]
    private static partial Regex CountryPath();

    [GeneratedRegex("<tr class=\"cluster-row")]
    private static partial Regex ClusterRow();

    [GeneratedRegex("class=\"wave gate-[a-z]+\" data-wave=\"([^\"]+)\"")]
    private static partial Regex WaveDiv();
}

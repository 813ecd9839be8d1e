using System.Collections.Immutable;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Policy.Checks;
using EdgeOps.Reconciler.Source;

namespace EdgeOps.Reconciler.Pipeline;

/// <summary>One revision of the fleet loaded and rendered for this cluster.</summary>
public sealed record RenderedRevision(
    IDisposable Source,
    string Revision,
    FleetModel Fleet,
    FleetFiles Files,
    Cluster? Cluster,
    DesiredState? State,
    IReadOnlyList<RenderedObject> Objects,
    IReadOnlyList<string> Errors,
    TimeSpan HealthTimeout) : IDisposable
{
    public void Dispose() => Source.Dispose();
}

/// <summary>Loads a revision straight from the repo cache's tree, renders this cluster's desired state, and enforces the policies on it.</summary>
public sealed class RevisionRenderer(ReconcilerOptions options, GitSource git, Location.LocationTracker location)
{
    public RenderedRevision Render(string revision)
    {
        var source = GitTreeFleetSource.FromRepository(git.Open(), revision);
        try
        {
            return Render(source, revision);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    private RenderedRevision Render(GitTreeFleetSource source, string revision)
    {
        var bag = new DiagnosticBag();
        var files = new FleetFiles(source);
        var fleet = new FleetLoader().Load(files, bag);
        var cluster = fleet.FindCluster(options.Cluster);
        var errors = bag.ToSortedList().Where(d => d.IsError).Select(d => d.ToString()).ToList();
        var timeout = options.HealthTimeout ?? fleet.Settings.Defaults.HealthTimeout;
        if (cluster is null)
        {
            errors.Add($"the fleet has no cluster named '{options.Cluster}'");
            return new RenderedRevision(source, revision, fleet, files, null, null, [], errors, timeout);
        }

        var facts = ReadFacts();
        if (options.Location.Source != Location.LocationSourceKind.None)
        {
            location.SetAreas(
                fleet.Workloads.Select(w => (PlacementEvaluator.Key(w.Kind, w.Name), w.Placement))
                    .Concat(fleet.DeviceConfigs.Select(d => (PlacementEvaluator.Key(d.Kind, d.Name), d.Placement)))
                    .Concat(fleet.UpgradePlans.Select(u => (PlacementEvaluator.Key(u.Kind, u.Name), u.Placement)))
                    .Where(a => a.Placement.HasLocationConstraint));
            var (position, decisions) = location.Facts();
            facts = (facts ?? ClusterFacts.None) with { Location = position, LocationDecisions = decisions };
        }

        var result = new Renderer(fleet).Render(cluster, facts);
        errors.AddRange(result.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
        return new RenderedRevision(source, revision, fleet, files, cluster, result.State, result.State.Objects, errors, timeout);
    }

    /// <summary>Runs the fleet's policies on a rendered revision: the errors that deny it, and every violation for the report.</summary>
    public static (IReadOnlyList<string> Errors, IReadOnlyList<string> Violations) Enforce(RenderedRevision render, TimeProvider clock, CancellationToken cancellationToken)
    {
        var bag = new DiagnosticBag();
        using var check = new PolicyFleetCheck(clock).Start(render.Fleet, render.Files, bag, cancellationToken);
        var result = new ClusterCheckResult();
        check.Check(render.Cluster!, render.State!, result);
        var errors = bag.ToSortedList().Where(d => d.IsError).Concat(result.Diagnostics.Where(d => d.IsError)).Select(d => d.ToString()).Distinct().ToList();
        return (errors, [.. result.Diagnostics.Select(d => d.ToString())]);
    }

    /// <summary>The facts file's location, for the <c>facts</c> location source (null when the file names none).</summary>
    public GeoPoint? FactsFileLocation() => ReadFacts()?.Location;

    private ClusterFacts? ReadFacts() =>
        options.FactsFile is { } path && File.Exists(path) ? ParseFacts(path, File.ReadAllText(path)) : null;

    /// <summary>
    /// The facts file: <c>{"location": {"lat": …, "lon": …}, "devices": {"CLASS": COUNT, …}}</c>, both optional. Written by
    /// a process on the device; anything else in it is a <see cref="ReconcilerException"/> naming the file and the field
    /// (the pass fails and says so), never a crash of the pass.
    /// </summary>
    internal static ClusterFacts ParseFacts(string path, string text)
    {
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new ReconcilerException($"{path}: the facts file is not JSON: {Fleet.Diagnostics.JsonErrors.Describe(ex)}", ex);
        }

        if (json is not JsonObject root)
        {
            throw new ReconcilerException($"{path}: the facts file must be a JSON object, such as {{\"location\": {{\"lat\": 41.56, \"lon\": 0.53}}, \"devices\": {{\"usb-camera\": 2}}}}");
        }

        GeoPoint? location = null;
        if (root["location"] is { } l)
        {
            location = (l is JsonObject place ? GeoPoint.OnTheGlobe(Number(place["lat"]), Number(place["lon"])) : null)
                ?? throw new ReconcilerException($"{path}: location must be {{\"lat\": DEGREES, \"lon\": DEGREES}}, latitude -90 to 90 and longitude -180 to 180; found {Shown(l)}");
        }

        ImmutableSortedDictionary<string, int>? devices = null;
        if (root["devices"] is { } d)
        {
            if (d is not JsonObject counts)
            {
                throw new ReconcilerException($"{path}: devices must be an object of device class to count; found {Shown(d)}");
            }

            var builder = ImmutableSortedDictionary.CreateBuilder<string, int>(StringComparer.Ordinal);
            foreach (var (name, value) in counts)
            {
                builder[name] = Number(value) is { } count && count >= 0 && count <= int.MaxValue && count == Math.Floor(count)
                    ? (int)count
                    : throw new ReconcilerException($"{path}: devices.{name} must be a count (a whole number, 0 or more); found {Shown(value)}");
            }

            devices = builder.ToImmutable();
        }

        return new ClusterFacts(location, devices);

        static double? Number(JsonNode? node) =>
            node is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.Number && value.TryGetValue<double>(out var number) && double.IsFinite(number)
                ? number
                : null;

        static string Shown(JsonNode? node)
        {
            var shown = node?.ToJsonString() ?? "null";
            return shown.Length > 60 ? shown[..60] + "…" : shown;
        }
    }
}

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

    private ClusterFacts? ReadFacts()
    {
        if (options.FactsFile is not { } path || !File.Exists(path))
        {
            return null;
        }

        JsonNode? json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new ReconcilerException($"{path}: the facts file is not JSON: {ex.Message}", ex);
        }

        GeoPoint? location = json?["location"] is JsonObject l && l["lat"] is JsonValue lat && l["lon"] is JsonValue lon
            ? new GeoPoint(lat.GetValue<double>(), lon.GetValue<double>())
            : null;
        var devices = json?["devices"] is JsonObject d
            ? d.ToImmutableSortedDictionary(p => p.Key, p => p.Value!.GetValue<int>(), StringComparer.Ordinal)
            : null;
        return new ClusterFacts(location, devices);
    }
}

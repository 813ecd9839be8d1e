using System.Collections.Concurrent;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;

namespace EdgeOps.Fleet.Validation;

/// <summary>
/// A check that validate runs on every rendered cluster, such as policy evaluation. It starts once
/// per run, after loading (where it reports problems with its own inputs), then checks clusters
/// concurrently.
/// </summary>
public interface IFleetCheck
{
    IClusterCheck Start(FleetModel fleet, FleetFiles files, DiagnosticBag diagnostics, CancellationToken cancellationToken);
}

public interface IClusterCheck : IDisposable
{
    /// <summary>The rules (policies) this check applies, for the per-rule summary.</summary>
    IReadOnlyList<string> Rules { get; }

    void Check(Cluster cluster, DesiredState state, ClusterCheckResult result);
}

/// <summary>What a check found for one cluster: diagnostics, and facts to show in its summary (such as a cost estimate).</summary>
public sealed class ClusterCheckResult
{
    public List<Diagnostic> Diagnostics { get; } = [];

    public SortedDictionary<string, string> Facts { get; } = new(StringComparer.Ordinal);
}

public sealed record ValidationOptions
{
    public static readonly ValidationOptions Default = new();

    /// <summary>Only these clusters are rendered; empty means every cluster.</summary>
    public IReadOnlyList<string> Clusters { get; init; } = [];

    /// <summary>
    /// Chooses the clusters to render from the loaded fleet (as <c>--changed-since</c> does); the clusters it
    /// returns are intersected with <see cref="Clusters"/> when both are given. Null renders every cluster.
    /// </summary>
    public Func<FleetModel, IReadOnlySet<string>>? Select { get; init; }

    public LoaderOptions Loader { get; init; } = LoaderOptions.Default;

    public IReadOnlyList<IFleetCheck> Checks { get; init; } = [];

    /// <summary>Called after each cluster with the number done and the total.</summary>
    public Action<int, int>? Progress { get; init; }

    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}

public sealed record ClusterSummary(string Name, IReadOnlyDictionary<string, string> Labels, int Workloads, int DeviceConfigs, int UpgradePlans, int Objects, int Errors, int Warnings)
{
    /// <summary>Facts the checks reported for the cluster, such as the monthly cost estimate.</summary>
    public IReadOnlyDictionary<string, string> Facts { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>How one rule (policy) fared across the clusters validated.</summary>
public sealed record RuleSummary(string Rule, int Errors, int Warnings, int Clusters);

public sealed record ValidationReport(
    FleetModel Fleet,
    IReadOnlyList<Diagnostic> Diagnostics,
    IReadOnlyList<ClusterSummary> Clusters,
    FleetFiles Files,
    string Source)
{
    /// <summary>Every rule (policy) that ran, with its counts, in name order.</summary>
    public IReadOnlyList<RuleSummary> Rules { get; init; } = [];

    public int ErrorCount => Diagnostics.Count(d => d.IsError);

    public int WarningCount => Diagnostics.Count(d => d.Severity == Severity.Warning);

    public bool Ok => ErrorCount == 0;
}

/// <summary>Thrown for a request that names clusters the fleet does not have.</summary>
public sealed class UnknownClusterException(string message) : Exception(message);

/// <summary>
/// <c>edgeops validate</c>: load the fleet, render every (or the chosen) cluster, run the checks,
/// and gather every diagnostic. Clusters render in parallel and are dropped once summarised, so
/// memory stays bounded by the fleet model, not by the fleet's total desired state.
/// </summary>
public sealed class FleetValidator
{
    public ValidationReport Validate(IFleetSource source, ValidationOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ValidationOptions.Default;
        var bag = new DiagnosticBag();
        var files = new FleetFiles(source, options.Loader.MaxFileBytes);
        var fleet = new FleetLoader(options.Loader).Load(files, bag);

        var selected = SelectClusters(fleet, options.Clusters);
        if (options.Select is { } select)
        {
            var chosen = select(fleet);
            selected = [.. selected.Where(c => chosen.Contains(c.Name))];
        }

        var renderer = new Renderer(fleet);
        var checks = options.Checks.Select(c => c.Start(fleet, files, bag, cancellationToken)).ToList();
        try
        {
            return Run(source, options, bag, files, fleet, selected, renderer, checks, cancellationToken);
        }
        finally
        {
            foreach (var check in checks)
            {
                check.Dispose();
            }
        }
    }

    private static ValidationReport Run(
        IFleetSource source,
        ValidationOptions options,
        DiagnosticBag bag,
        FleetFiles files,
        FleetModel fleet,
        List<Cluster> selected,
        Renderer renderer,
        List<IClusterCheck> checks,
        CancellationToken cancellationToken)
    {
        var summaries = new ClusterSummary[selected.Count];
        var placedWorkloads = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var done = 0;
        Parallel.For(0, selected.Count, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken }, i =>
        {
            var cluster = selected[i];
            var result = renderer.Render(cluster);
            var diagnostics = new List<Diagnostic>(result.Diagnostics);
            var checked_ = new ClusterCheckResult();
            foreach (var check in checks)
            {
                check.Check(cluster, result.State, checked_);
            }

            diagnostics.AddRange(checked_.Diagnostics);

            foreach (var d in diagnostics)
            {
                bag.Add(d);
            }

            foreach (var w in result.State.Workloads)
            {
                placedWorkloads.TryAdd(w, 0);
            }

            summaries[i] = new ClusterSummary(cluster.Name, cluster.Labels, result.State.Workloads.Length, result.State.DeviceConfigs.Length,
                result.State.UpgradePlans.Length, result.State.Objects.Length,
                diagnostics.Count(d => d.IsError), diagnostics.Count(d => d.Severity == Severity.Warning))
            {
                Facts = checked_.Facts,
            };
            options.Progress?.Invoke(Interlocked.Increment(ref done), selected.Count);
        });

        if (options.Clusters.Count == 0 && options.Select is null && fleet.Clusters.Length > 0)
        {
            foreach (var workload in fleet.Workloads.Where(w => !placedWorkloads.ContainsKey(w.Name)))
            {
                bag.Warning(workload.Placement.Location.IsKnown ? workload.Placement.Location : workload.Metadata.Name.Location, Codes.NothingPlaced,
                    $"workload '{workload.Name}' is placed on no cluster");
            }
        }

        var all = bag.ToSortedList();
        // Load problems in a cluster's own file count for that cluster when the file holds only it.
        var clustersPerFile = fleet.Clusters.GroupBy(c => c.Location.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var clusterFiles = selected.ToDictionary(c => c.Name, c => c.Location.Path, StringComparer.Ordinal);
        var withLoadProblems = summaries.Select(s =>
        {
            var path = clusterFiles[s.Name];
            if (clustersPerFile.GetValueOrDefault(path) != 1)
            {
                return s;
            }

            var own = all.Where(d => d.Clusters.Count == 0 && d.Location.Path == path && d.Location.Line >= 1).ToList();
            return own.Count == 0 ? s : s with { Errors = s.Errors + own.Count(d => d.IsError), Warnings = s.Warnings + own.Count(d => d.Severity == Severity.Warning) };
        }).ToList();
        var rules = checks.SelectMany(c => c.Rules).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(rule =>
            {
                var mine = all.Where(d => d.Rule is { } r && (r == rule || r.StartsWith(rule + "/", StringComparison.Ordinal))).ToList();
                return new RuleSummary(rule, mine.Count(d => d.IsError), mine.Count(d => d.Severity == Severity.Warning),
                    mine.SelectMany(d => d.Clusters).Distinct(StringComparer.Ordinal).Count());
            })
            .ToList();
        return new ValidationReport(fleet, all, withLoadProblems, files, source.DisplayName) { Rules = rules };
    }

    private static List<Cluster> SelectClusters(FleetModel fleet, IReadOnlyList<string> names)
    {
        if (names.Count == 0)
        {
            return [.. fleet.Clusters];
        }

        var selected = new List<Cluster>();
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            var cluster = fleet.FindCluster(name)
                ?? throw new UnknownClusterException($"the fleet has no cluster named '{name}'{FieldReader.Suggest(name, fleet.Clusters.Select(c => c.Name))}");
            selected.Add(cluster);
        }

        return selected;
    }
}

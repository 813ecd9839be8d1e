using System.Collections.Concurrent;
using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Evaluation;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;

namespace EdgeOps.Policy.Checks;

/// <summary>
/// Runs the fleet's policies (<c>spec.policies</c>: built-in sets and policy folders) on every
/// rendered cluster during <c>edgeops validate</c>. Violations become diagnostics at the manifest
/// line of the offending value; policies that fail are reported at their own file and line.
/// </summary>
public sealed class PolicyFleetCheck(TimeProvider? clock = null) : IFleetCheck
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public IClusterCheck Start(FleetModel fleet, FleetFiles files, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        var settings = fleet.Settings.Policies;
        var set = PolicySets.ForFleet(settings, files, diagnostics);
        var limits = PolicyLimits.From(settings.Limits, diagnostics);
        PolicySets.CheckParameters(settings.Parameters, set, diagnostics);
        var now = _clock.GetUtcNow();
        var engine = new PolicyEngine(set, new PolicyEngineOptions
        {
            Limits = limits,
            Now = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero),
            Parameters = settings.Parameters,
            Enforcement = settings.Enforcement,
            CancellationToken = cancellationToken,
        });
        return new ClusterCheck(fleet, engine);
    }

    private sealed class ClusterCheck : IClusterCheck
    {
        /// <summary>Distinct sets of placed workloads whose context is kept; a fleet rarely has more.</summary>
        private const int MaxPlacedSets = 1024;

        private readonly FleetModel _fleet;
        private readonly ConcurrentDictionary<string, MappingNode> _placed = new(StringComparer.Ordinal);
        private readonly PolicyEngine _engine;
        private readonly MappingNode _fleetContext;
        private readonly ImmutableDictionary<string, MappingNode> _owners;

        public ClusterCheck(FleetModel fleet, PolicyEngine engine)
        {
            _fleet = fleet;
            _engine = engine;
            _fleetContext = PolicyContexts.Fleet(fleet.Settings);
            _owners = fleet.Workloads.Select(w => (Key: FleetApi.WorkloadKind + "/" + w.Name, Value: PolicyContexts.Workload(w)))
                .Concat(fleet.DeviceConfigs.Select(d => (Key: FleetApi.DeviceConfigKind + "/" + d.Name, Value: PolicyContexts.DeviceConfig(d))))
                .ToImmutableDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            Rules = [.. engine.Policies.Policies.Select(p => p.Name)];
        }

        public IReadOnlyList<string> Rules { get; }

        /// <summary>
        /// ctx.workloads for a cluster: one node per distinct set of placed workloads, shared by every
        /// cluster that runs that set, so its content digest and its JavaScript copy are made once per
        /// set instead of once per cluster (with geofences, it is the largest context a policy reads).
        /// </summary>
        private MappingNode Placed(DesiredState state)
        {
            var key = string.Join('\n', state.Workloads);
            if (_placed.TryGetValue(key, out var placed))
            {
                return placed;
            }

            placed = PolicyContexts.Placed(state, name => _owners.GetValueOrDefault(name));
            if (_placed.Count >= MaxPlacedSets)
            {
                _placed.Clear();
            }

            return _placed.GetOrAdd(key, placed);
        }

        public void Check(Cluster cluster, DesiredState state, ClusterCheckResult result)
        {
            if (_engine.Policies.IsEmpty)
            {
                return;
            }

            var subjects = PolicyContexts.Subjects(_fleet, state, key => _owners.GetValueOrDefault(key));
            var workloads = Placed(state);
            var target = new PolicyTarget(cluster.Name, PolicyContexts.Cluster(cluster, state.Facts), _fleetContext, subjects, cluster.Metadata.Name.Location)
            {
                Workloads = workloads,
            };
            var evaluation = _engine.Evaluate(target);
            foreach (var violation in evaluation.Violations)
            {
                result.Diagnostics.Add(ToDiagnostic(violation));
            }

            result.Diagnostics.AddRange(evaluation.Errors);
            foreach (var (key, value) in evaluation.Facts)
            {
                result.Facts[key] = value;
            }
        }

        public void Dispose() => _engine.Dispose();
    }

    public static Diagnostic ToDiagnostic(PolicyViolation violation)
    {
        var about = violation.Object is null ? string.Empty : $" ({violation.Object})";
        return new Diagnostic(violation.Location, violation.Severity == PolicySeverity.Error ? Severity.Error : Severity.Warning,
            Codes.PolicyViolation, $"{violation.Rule}: {violation.Message}{about}")
        {
            Clusters = violation.Cluster is null ? [] : [violation.Cluster],
            Rule = violation.Rule,
            Related = [SourceLocation.FileStart(violation.PolicyFile)],
        };
    }
}

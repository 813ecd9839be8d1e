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
        private readonly FleetModel _fleet;
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

        public void Check(Cluster cluster, DesiredState state, ClusterCheckResult result)
        {
            if (_engine.Policies.IsEmpty)
            {
                return;
            }

            var subjects = PolicyContexts.Subjects(_fleet, state, key => _owners.GetValueOrDefault(key));
            var workloads = PolicyContexts.Placed(state, key => _owners.GetValueOrDefault(key));
            var target = new PolicyTarget(cluster.Name, PolicyContexts.Cluster(cluster), _fleetContext, subjects, cluster.Metadata.Name.Location)
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

/// <summary>Assembles the policy set a fleet (or a command line) asks for.</summary>
public static class PolicySets
{
    public static PolicySet ForFleet(PolicySettings settings, FleetFiles files, DiagnosticBag diagnostics)
    {
        var sources = new List<PolicySourceFile>();
        foreach (var name in settings.BuiltIn)
        {
            if (BuiltInModules.PolicyNames.Contains(name.Value))
            {
                sources.Add(PolicySourceFile.BuiltInPolicy(name.Value));
            }
            else
            {
                diagnostics.Error(name.Location, Codes.PolicyUnknown,
                    $"no built-in policy named '{name.Value}'; built-in policies: {string.Join(", ", BuiltInModules.PolicyNames)}");
            }
        }

        foreach (var folder in settings.Paths)
        {
            var prefix = FleetFiles.Normalize(folder.Value);
            var scripts = files.Source.Entries.Values
                .Where(e => e.Kind != FleetEntryKind.Directory && e.Path.EndsWith(".js", StringComparison.Ordinal)
                    && FleetFiles.DirectoryOf(e.Path) == prefix)
                .Select(e => e.Path)
                .Order(StringComparer.Ordinal);
            foreach (var path in scripts)
            {
                if (files.ReadText(path, diagnostics) is { } text)
                {
                    sources.Add(new PolicySourceFile(path, text));
                }
            }
        }

        return PolicyLoader.Load(sources, diagnostics);
    }

    /// <summary>Parameters may only name policies of the set.</summary>
    public static void CheckParameters(MappingNode? parameters, PolicySet set, DiagnosticBag diagnostics)
    {
        if (parameters is null)
        {
            return;
        }

        foreach (var (key, value) in parameters.Entries)
        {
            if (!set.Policies.Any(p => p.Name == key.Value))
            {
                diagnostics.Error(key.Location, Codes.PolicySettings, $"parameters given for policy '{key.Value}', which is not enabled");
            }
            else if (value is not MappingNode)
            {
                diagnostics.Error(value.Location, Codes.PolicySettings, $"parameters of policy '{key.Value}' must be a mapping");
            }
        }
    }
}

using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;

namespace EdgeOps.Policy.Evaluation;

public sealed record PolicyEngineOptions
{
    public PolicyLimits Limits { get; init; } = PolicyLimits.Default;

    /// <summary>What <c>ctx.now</c> and <c>Date.now()</c> say for the whole run.</summary>
    public DateTimeOffset Now { get; init; } = DateTimeOffset.UnixEpoch;

    /// <summary>Per-policy parameters (<c>ctx.params</c>), by policy name.</summary>
    public MappingNode? Parameters { get; init; }

    /// <summary>Warn turns every error-severity violation into a warning.</summary>
    public Enforcement Enforcement { get; init; } = Enforcement.Deny;

    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Keep each outcome for later calls on the same content and context (validate: one object, many clusters).
    /// Off where every object is judged once (<c>edgeops check</c>): remembering would only hold memory.
    /// </summary>
    public bool RememberOutcomes { get; init; } = true;
}

/// <summary>
/// Evaluates a policy set against objects and clusters. Thread-safe: each thread gets its own
/// sandboxed engine; outcomes are shared through a cache keyed by object content and by the
/// context values each policy read.
/// </summary>
public sealed class PolicyEngine : IDisposable
{
    private readonly PolicySet _set;
    private readonly PolicyEngineOptions _options;
    private readonly ThreadLocal<PolicyRuntime> _runtimes;
    private readonly OutcomeCache _cache = new();
    private long _evaluations;

    public PolicyEngine(PolicySet set, PolicyEngineOptions? options = null)
    {
        _set = set;
        _options = options ?? new PolicyEngineOptions();
        var parameters = set.Policies.Select(p => _options.Parameters?[p.Name]).ToArray();
        _runtimes = new ThreadLocal<PolicyRuntime>(() => new PolicyRuntime(set, _options.Limits, _options.Now, parameters, _options.CancellationToken));
    }

    public PolicySet Policies => _set;

    /// <summary>Policy calls made, and calls answered from the cache.</summary>
    public (long Evaluations, long CacheHits) Statistics => (Interlocked.Read(ref _evaluations), _cache.Hits);

    public PolicyEvaluation Evaluate(PolicyTarget target)
    {
        _options.CancellationToken.ThrowIfCancellationRequested();
        if (_set.IsEmpty)
        {
            return new PolicyEvaluation([], [], ImmutableSortedDictionary<string, string>.Empty);
        }

        var runtime = _runtimes.Value!;
        PolicyData? cluster = null;
        PolicyData? fleet = null;
        PolicyData? Cluster() => target.Cluster is null ? null : cluster ??= new PolicyData("cluster:" + ContentHash.Of(target.Cluster), target.Cluster);
        PolicyData? Fleet() => target.Fleet is null ? null : fleet ??= new PolicyData("fleet:" + ContentHash.Of(target.Fleet), target.Fleet);

        // Objects are kept in the realms for the cluster-level calls that follow, when there are any.
        var keepObjects = target.Cluster is not null && _set.Policies.Any(p => p.HasValidateCluster);
        return Evaluate(target, runtime, keepObjects, Cluster, Fleet);
    }

    private PolicyEvaluation Evaluate(PolicyTarget target, PolicyRuntime runtime, bool keepObjects, Func<PolicyData?> Cluster, Func<PolicyData?> Fleet)
    {
        var violations = ImmutableArray.CreateBuilder<PolicyViolation>();
        var errors = ImmutableArray.CreateBuilder<Diagnostic>();
        var facts = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        // An object is hashed only when some policy applies to it: most objects of a cluster (its ConfigMaps, say)
        // are matched by none, and rendered per cluster, a digest each would cost more than the rest of the lookup.
        var hashes = new string?[target.Objects.Count];
        string Hash(int i) => hashes[i] ??= ContentHash.Of(target.Objects[i].Body);
        for (var i = 0; i < target.Objects.Count; i++)
        {
            var subject = target.Objects[i];
            var view = new OutcomeCache.ContextView(target.Cluster, subject.Workload, null, target.Fleet);
            for (var p = 0; p < _set.Policies.Length; p++)
            {
                var policy = _set.Policies[p];
                if (!policy.HasValidate || !policy.Applies(subject.Id, subject.Body))
                {
                    continue;
                }

                // Not remembering, nothing needs the object's hash: no cache is asked, and a realm keeps
                // objects (by hash) only for cluster-level calls.
                var hash = _options.RememberOutcomes || keepObjects ? Hash(i) : null;
                if (hash is null || !_cache.TryGet(p, hash, view, out var outcome))
                {
                    outcome = Remember(p, hash, view, runtime.Invoke(p, clusterLevel: false, new PolicyCall(
                        new PolicyData(hash, subject.Body),
                        null,
                        Cluster(),
                        subject.Workload is null ? null : new PolicyData("workload:" + ContentHash.Of(subject.Workload), subject.Workload),
                        null,
                        Fleet(),
                        keepObjects)));
                }

                Report(policy, outcome, target, subject, violations, errors, facts);
            }
        }

        for (var p = 0; p < _set.Policies.Length; p++)
        {
            var policy = _set.Policies[p];
            if (!policy.HasValidateCluster || target.Cluster is null)
            {
                // Cluster-level policies judge a cluster; without one (edgeops check) they have nothing to judge.
                continue;
            }

            var matched = new List<int>();
            for (var i = 0; i < target.Objects.Count; i++)
            {
                if (policy.Applies(target.Objects[i].Id, target.Objects[i].Body))
                {
                    matched.Add(i);
                }
            }

            var subjectHash = "cluster:" + ContentHash.Combine(matched.Select(Hash));
            var view = new OutcomeCache.ContextView(target.Cluster, null, target.Workloads, target.Fleet);
            if (!_options.RememberOutcomes || !_cache.TryGet(p, subjectHash, view, out var outcome))
            {
                outcome = Remember(p, subjectHash, view, runtime.Invoke(p, clusterLevel: true, new PolicyCall(
                    null,
                    [.. matched.Select(i => new PolicyData(Hash(i), target.Objects[i].Body))],
                    Cluster(),
                    null,
                    target.Workloads is null ? null : new PolicyData("workloads:" + ContentHash.Of(target.Workloads), target.Workloads),
                    Fleet(),
                    keepObjects)));
            }

            Report(policy, outcome, target, null, violations, errors, facts);
        }

        return new PolicyEvaluation(violations.ToImmutable(), errors.ToImmutable(), facts.ToImmutable());
    }

    /// <summary>Counts a call that was made, and keeps its outcome when outcomes are remembered.</summary>
    private Outcome Remember(int policy, string? subject, OutcomeCache.ContextView view, Outcome outcome)
    {
        Interlocked.Increment(ref _evaluations);
        return _options.RememberOutcomes && subject is not null ? _cache.Add(policy, subject, view, outcome) : outcome;
    }

    private void Report(
        PolicyDefinition policy,
        Outcome outcome,
        PolicyTarget target,
        PolicySubject? subject,
        ImmutableArray<PolicyViolation>.Builder violations,
        ImmutableArray<Diagnostic>.Builder errors,
        ImmutableSortedDictionary<string, string>.Builder facts)
    {
        foreach (var (key, value) in outcome.Facts)
        {
            facts[key] = value;
        }

        if (outcome.Failure is { } failure)
        {
            var about = subject is null ? string.Empty : $" on {subject.Id}";
            errors.Add(new Diagnostic(failure.Location, Severity.Error, failure.Code, $"policy '{policy.Name}': {failure.Message}{about}")
            {
                Clusters = target.ClusterName is null ? [] : [target.ClusterName],
                Rule = policy.Name,
            });
            return;
        }

        foreach (var raw in outcome.Violations)
        {
            var on = subject ?? Find(target, raw.Object);
            var location = on is null ? target.ClusterLocation : PathMapper.Locate(on.Body, raw.Path);
            var severity = _options.Enforcement == Enforcement.Warn ? PolicySeverity.Warning : raw.Severity;
            violations.Add(new PolicyViolation(policy.Name, raw.Control, severity, raw.Message, on?.Id, raw.Path, target.ClusterName, location, policy.File));
        }
    }

    private static PolicySubject? Find(PolicyTarget target, ObjectReference? reference) =>
        reference is null
            ? null
            : target.Objects.FirstOrDefault(o => (reference.Kind is null || o.Id.Kind == reference.Kind)
                && o.Id.Name == reference.Name
                && (reference.Namespace is null || o.Id.Namespace == reference.Namespace));

    public void Dispose() => _runtimes.Dispose();
}

using System.Collections.Immutable;
using System.Text.RegularExpressions;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;
using Jint;
using Jint.Native;
using Jint.Native.Json;
using Jint.Native.Object;
using Jint.Runtime;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// One sandboxed engine with every policy of a set imported, for one thread. Objects and contexts
/// are turned into frozen JavaScript values once and reused: a frozen value is safe to share
/// between policies, since none can change what another sees.
/// </summary>
internal sealed class PolicyRuntime
{
    private const int MaxCachedValues = 20_000;

    private readonly Engine _engine;
    private readonly JsonParser _json;
    private readonly JsValue _invoke;
    private readonly JsValue _freeze;
    private readonly ImmutableArray<PolicyDefinition> _policies;
    private readonly JsValue[] _validate;
    private readonly JsValue[] _validateCluster;
    private readonly JsValue[] _parameters;
    private readonly JsValue _now;
    private readonly Dictionary<string, JsValue> _values = new(StringComparer.Ordinal);
    private readonly JsValues _builder;

    public PolicyRuntime(PolicySet set, PolicyLimits limits, DateTimeOffset now, IReadOnlyList<Node?> parameters, CancellationToken cancellationToken)
    {
        _policies = set.Policies;
        _engine = SandboxFactory.Create(limits, now, cancellationToken);
        _json = new JsonParser(_engine);
        _builder = new JsValues(_engine);
        var host = (ObjectInstance)_engine.GetValue("__edgeops");
        _invoke = host.Get("invoke");
        _freeze = host.Get("freeze");
        _now = JsString.Create(now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        _validate = new JsValue[_policies.Length];
        _validateCluster = new JsValue[_policies.Length];
        _parameters = new JsValue[_policies.Length];
        for (var i = 0; i < _policies.Length; i++)
        {
            var policy = _policies[i];
            _engine.Modules.Add(policy.Specifier, builder => builder.AddModule(policy.Module));
            var exports = _engine.Modules.Import(policy.Specifier);
            _validate[i] = exports.Get("validate");
            _validateCluster[i] = exports.Get("validateCluster");
            _parameters[i] = parameters[i] is { } p ? _builder.From(p, freeze: true) : Freeze(_json.Parse("{}"));
        }
    }

    /// <summary>A frozen JavaScript copy of a node, reused while its content hash is the same.</summary>
    public JsValue Value(string hash, Node node)
    {
        if (_values.TryGetValue(hash, out var value))
        {
            return value;
        }

        if (_values.Count >= MaxCachedValues)
        {
            _values.Clear();
        }

        value = _builder.From(node, freeze: true);
        _values[hash] = value;
        return value;
    }

    /// <summary>
    /// A JavaScript copy of context data, not frozen: policies reach it only through read-only
    /// tracking proxies, and a proxy may not wrap the properties of a frozen object.
    /// </summary>
    public JsValue Context(string hash, Node node)
    {
        if (_values.TryGetValue(hash, out var value))
        {
            return value;
        }

        if (_values.Count >= MaxCachedValues)
        {
            _values.Clear();
        }

        value = _builder.From(node, freeze: false);
        _values[hash] = value;
        return value;
    }

    public JsValue Array(IReadOnlyList<JsValue> items) => Freeze(new JsArray(_engine, [.. items]));

    public Outcome Invoke(int index, bool clusterLevel, JsValue subject, JsValue cluster, JsValue workload, JsValue workloads, JsValue fleet)
    {
        var policy = _policies[index];
        var function = clusterLevel ? _validateCluster[index] : _validate[index];
        var fallback = clusterLevel ? policy.ValidateClusterLocation : policy.ValidateLocation;
        var entry = clusterLevel ? "validateCluster" : "validate";
        JsValue raw;
        try
        {
            _engine.Constraints.Reset();
            raw = _engine.Invoke(_invoke, function, subject, cluster, workload, workloads, fleet, _parameters[index], _now);
        }
        catch (ExecutionCanceledException)
        {
            throw new OperationCanceledException();
        }
        catch (Exception ex) when (Classify(ex, policy, entry, fallback) is { } failure)
        {
            _engine.Advanced.ResetCallStack();
            return new Outcome([], failure, [], []);
        }

        var result = (ObjectInstance)raw;
        var dependencies = ((JsArray)result.Get("log")).Select(v => v.AsString()).Order(StringComparer.Ordinal).ToImmutableArray();
        var facts = ((ObjectInstance)result.Get("facts")).GetOwnProperties()
            .Select(p => new KeyValuePair<string, string>(p.Key.ToString(), p.Value.Value.ToString()))
            .ToImmutableArray();
        var violations = ImmutableArray.CreateBuilder<RawViolation>();
        var problem = Collect(result.Get("result"), policy, violations)
            ?? Collect(result.Get("sink"), policy, violations);
        if (problem is not null)
        {
            return new Outcome([], new PolicyFailure(Codes.PolicyInvalidResult, $"{entry} {problem}", fallback), facts, dependencies);
        }

        return new Outcome(violations.ToImmutable(), null, facts, dependencies);
    }

    private JsValue Freeze(JsValue value) => _engine.Invoke(_freeze, value);

    /// <summary>Reads what a policy returned; returns a description of the problem if it is not violations.</summary>
    private static string? Collect(JsValue value, PolicyDefinition policy, ImmutableArray<RawViolation>.Builder into)
    {
        switch (value)
        {
            case JsValue v when v.IsUndefined() || v.IsNull():
                return null;
            case JsString s:
                into.Add(new RawViolation(null, policy.Severity, s.ToString(), null, null));
                return null;
            case JsArray array:
                foreach (var item in array)
                {
                    if (item.IsUndefined() || item.IsNull())
                    {
                        continue;
                    }

                    if (item is JsArray)
                    {
                        return "returned a nested array; return a flat list of violations";
                    }

                    if (Collect(item, policy, into) is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            case ObjectInstance obj when obj.Get("then") is Jint.Native.Function.Function:
                return "returned a Promise; policies must be synchronous";
            case ObjectInstance obj:
                var message = obj.Get("message");
                if (!message.IsString())
                {
                    return $"returned an object without a string message ({Describe(obj)}); return {{ message, path, control, severity }}";
                }

                var control = obj.Get("control");
                if (!control.IsUndefined() && !control.IsString())
                {
                    return "returned a violation whose control is not a string";
                }

                if (control.IsString() && !policy.Controls.IsEmpty && !policy.Controls.Contains(control.AsString()))
                {
                    return $"returned control '{control.AsString()}', which policy.controls does not declare";
                }

                var severity = obj.Get("severity");
                var level = policy.Severity;
                if (severity.IsString())
                {
                    level = severity.AsString() switch
                    {
                        "error" => PolicySeverity.Error,
                        "warning" => PolicySeverity.Warning,
                        _ => (PolicySeverity)(-1),
                    };
                    if ((int)level < 0)
                    {
                        return $"returned severity '{severity.AsString()}'; use \"error\" or \"warning\"";
                    }
                }

                var path = obj.Get("path");
                ObjectReference? target = null;
                if (obj.Get("object") is ObjectInstance o)
                {
                    static string? Text(JsValue v) => v.IsString() ? v.AsString() : null;
                    var meta = o.Get("metadata") as ObjectInstance;
                    target = new ObjectReference(Text(o.Get("kind")), Text(meta?.Get("namespace") ?? o.Get("namespace")), Text(meta?.Get("name") ?? o.Get("name")));
                }

                into.Add(new RawViolation(control.IsString() ? control.AsString() : null, level, message.AsString(), path.IsString() ? path.AsString() : null, target));
                return null;
            default:
                return $"returned {Describe(value)}, which is not a violation (return nothing, a message, an object {{ message, path, control }} or a list of these)";
        }
    }

    private static string Describe(JsValue value)
    {
        var text = value.IsObject() ? "an object" : value.ToString();
        return text.Length > 40 ? text[..40] + "…" : text;
    }

    private static PolicyFailure? Classify(Exception ex, PolicyDefinition policy, string entry, SourceLocation fallback)
    {
        switch (ex)
        {
            case JavaScriptException js:
                var source = js.Location.SourceFile ?? string.Empty;
                var inPolicy = source == policy.Specifier;
                var where = inPolicy ? PolicyLoader.Locate(policy.File, js.Location) : fallback;
                var helper = inPolicy || source.Length == 0 ? string.Empty : $" (in {source} line {js.Location.Start.Line})";
                return new PolicyFailure(Codes.PolicyRuntime, $"{entry} threw {js.Error}{helper}", where);
            case StatementsCountOverflowException:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} ran past the statement limit (an endless loop?)", fallback);
            case MemoryLimitExceededException:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} allocated past the memory limit", fallback);
            case RegexMatchTimeoutException regex:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} ran a regular expression past its time limit (/{regex.Pattern}/)", fallback);
            case TimeoutException:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} ran past the time limit", fallback);
            case RecursionDepthOverflowException:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} recursed past the call-depth limit", fallback);
            case JintException jint:
                return new PolicyFailure(Codes.PolicyRuntime, $"{entry} failed: {jint.Message}", fallback);
            default:
                return null;
        }
    }
}

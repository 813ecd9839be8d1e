using System.Collections.Immutable;
using System.Text.RegularExpressions;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;
using Jint;
using Jint.Constraints;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// Data handed to a policy, with the key its JavaScript copy is cached under: the given one, or else
/// the node's content hash, computed only if a cache is asked.
/// </summary>
internal readonly record struct PolicyData(string? Hash, Node Node)
{
    public string Key => Hash ?? ContentHash.Of(Node);
}

/// <summary>
/// What one policy call gets: the object (or, cluster-level, the objects) and the context. KeepObjects
/// says the same objects will be handed over again while this target is evaluated.
/// </summary>
internal sealed record PolicyCall(PolicyData? Subject, IReadOnlyList<PolicyData>? Items, PolicyData? Cluster, PolicyData? Workload, PolicyData? Workloads, PolicyData? Fleet, bool KeepObjects = false);

/// <summary>
/// One policy in an engine of its own: its own realm, intrinsics and helper-module instances, so
/// nothing it does at load or at run time — replacing a helper's export, a getter on
/// Object.prototype, a patched Array.prototype.push — reaches another policy or the built-ins.
/// Every step that can run the policy's code (its module body, its entry point, and the host's reads
/// of what it returned: getters, Proxy traps, a <c>then</c>) runs under the sandbox's limits and
/// inside one guard, so whatever fails becomes a located policy error and never escapes.
/// </summary>
internal sealed class PolicyRealm
{
    /// <summary>Violations kept from one call of one policy on one object; the rest are counted in a final "and N more".</summary>
    public const int MaxViolations = 100;

    /// <summary>Characters kept of a violation's message.</summary>
    public const int MaxMessageLength = 1024;

    /// <summary>Context values (a cluster, the fleet, a workload) kept for the next calls.</summary>
    private const int MaxCachedContexts = 64;

    /// <summary>Objects kept for cluster-level calls, of this target and of the next ones (which share most objects).</summary>
    private const int MaxKeptObjects = 512;

    private readonly PolicyDefinition _policy;
    private readonly Engine _engine;
    private readonly JsValues _builder;
    private readonly JsValue _invoke = JsValue.Undefined;
    private readonly JsValue _validate = JsValue.Undefined;
    private readonly JsValue _validateCluster = JsValue.Undefined;
    private readonly JsValue _parameters = JsValue.Undefined;
    private readonly JsValue _now;
    private readonly Dictionary<string, JsValue> _contexts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsValue> _objects = new(StringComparer.Ordinal);
    private readonly CallDeadline _deadline;
    private readonly TimeSpan _timeout;

    public PolicyRealm(PolicyDefinition policy, PolicyLimits limits, DateTimeOffset now, Node? parameters, CancellationToken cancellationToken)
    {
        _policy = policy;
        _engine = SandboxFactory.Create(limits, now, cancellationToken);
        _deadline = _engine.Constraints.Find<CallDeadline>()!;
        _timeout = limits.Timeout;
        _builder = new JsValues(_engine);
        _now = JsString.Create(now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            var host = (ObjectInstance)_engine.GetValue("__edgeops");
            _invoke = host.Get("invoke");
            _engine.Constraints.Reset();
            _deadline.Begin(_timeout, cancellationToken);
            _engine.Modules.Add(policy.Specifier, builder => builder.AddModule(policy.Module));
            var exports = _engine.Modules.Import(policy.Specifier);
            _validate = exports.Get("validate");
            _validateCluster = exports.Get("validateCluster");
            _parameters = parameters is { } p ? _builder.From(p, freeze: true) : _builder.From(MappingNode.Empty, freeze: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && Classify(ex, policy, "the policy module", SourceLocation.FileStart(policy.File)) is { } failure)
        {
            LoadFailure = failure;
        }
        finally
        {
            _deadline.End();
        }
    }

    /// <summary>Why the policy's module failed to load in this realm, if it did; every call then reports it.</summary>
    public PolicyFailure? LoadFailure { get; }

    /// <summary>Set when a call ended in a way that may leave the engine unusable (a limit, the native stack): make a new realm.</summary>
    public bool Spent { get; private set; }

    public Outcome Invoke(bool clusterLevel, PolicyCall call)
    {
        var fallback = clusterLevel ? _policy.ValidateClusterLocation : _policy.ValidateLocation;
        var entry = clusterLevel ? "validateCluster" : "validate";
        if (LoadFailure is { } broken)
        {
            return new Outcome([], broken, [], []);
        }

        // One wall-clock budget for the whole call: the entry point and the reads of what it returned.
        _deadline.Begin(_timeout, CancellationToken.None);
        try
        {
            _engine.Constraints.Reset();
            var subject = clusterLevel
                ? _builder.Array([.. call.Items!.Select(item => Value(item, call.KeepObjects))])
                : Value(call.Subject!.Value, call.KeepObjects);
            var raw = _engine.Invoke(_invoke, clusterLevel ? _validateCluster : _validate, subject,
                Context(call.Cluster), Context(call.Workload), Context(call.Workloads), Context(call.Fleet), _parameters, _now);
            return Read(raw, entry, fallback);
        }
        catch (ExecutionCanceledException)
        {
            throw new OperationCanceledException();
        }
        catch (Exception ex) when (ex is not OperationCanceledException && Classify(ex, _policy, entry, fallback) is { } failure)
        {
            Spent = ex is not JavaScriptException;
            _engine.Advanced.ResetCallStack();
            return new Outcome([], failure, [], []);
        }
        finally
        {
            _deadline.End();
        }
    }

    /// <summary>Gathers a call's result; runs under the same limits as the call, since reading may run the policy's getters.</summary>
    private Outcome Read(JsValue raw, string entry, SourceLocation fallback)
    {
        var result = (ObjectInstance)raw; // made by the prelude, never by the policy
        var dependencies = result.Get("log") is JsArray log
            ? [.. log.Select(v => v.IsString() ? v.AsString() : string.Empty).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]
            : ImmutableArray<string>.Empty;
        var facts = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        if (result.Get("facts") is ObjectInstance reported)
        {
            foreach (var (key, descriptor) in reported.GetOwnProperties())
            {
                facts.Add(new KeyValuePair<string, string>(key.ToString(), Limit(descriptor.Value?.ToString() ?? string.Empty)));
            }
        }

        var gathered = new Gathered(_policy);
        var problem = gathered.Collect(result.Get("result")) ?? gathered.Collect(result.Get("sink"));
        if (problem is not null)
        {
            return new Outcome([], new PolicyFailure(Codes.PolicyInvalidResult, $"{entry} {problem}", fallback), facts.ToImmutable(), dependencies);
        }

        return new Outcome(gathered.Finish(), null, facts.ToImmutable(), dependencies);
    }

    /// <summary>
    /// The object a policy judges: frozen, so that a policy that tries to change it fails and nothing it
    /// sees later differs. Kept (by content hash, bounded) only when the caller will hand the same object
    /// over again: to the cluster-level calls of this cluster and of the next clusters, which mostly run
    /// the same objects. Otherwise it is garbage as soon as the call ends, which is what the collector
    /// handles best: a cache that every object passes through once only promotes garbage.
    /// </summary>
    private JsValue Value(PolicyData data, bool keep)
    {
        if (!keep)
        {
            return _objects.Count > 0 && _objects.TryGetValue(data.Key, out var kept) ? kept : _builder.From(data.Node, freeze: true);
        }

        return Cached(_objects, MaxKeptObjects, data.Key, data.Node, freeze: true);
    }

    /// <summary>
    /// Context data is not frozen: policies reach it only through read-only tracking proxies, and a
    /// proxy may not hand out wrapped values of a frozen object's properties. The same cluster, workload
    /// or fleet serves many calls, so it is converted once and kept (bounded).
    /// </summary>
    private JsValue Context(PolicyData? data) => data is { } d ? Cached(_contexts, MaxCachedContexts, d.Key, d.Node, freeze: false) : JsValue.Null;

    private JsValue Cached(Dictionary<string, JsValue> values, int bound, string key, Node node, bool freeze)
    {
        if (!values.TryGetValue(key, out var value))
        {
            if (values.Count >= bound)
            {
                values.Clear();
            }

            value = values[key] = _builder.From(node, freeze);
        }

        return value;
    }

    internal static string Limit(string text) => text.Length <= MaxMessageLength ? text : string.Concat(text.AsSpan(0, MaxMessageLength), "…");

    /// <summary>What one call returned and reported, read into violations, at most <see cref="MaxViolations"/> of them.</summary>
    private sealed class Gathered(PolicyDefinition policy)
    {
        private readonly ImmutableArray<RawViolation>.Builder _violations = ImmutableArray.CreateBuilder<RawViolation>();
        private long _more;

        public ImmutableArray<RawViolation> Finish()
        {
            if (_more > 0)
            {
                var last = _violations[^1];
                _violations.Add(last with { Message = $"and {_more} more violation{(_more == 1 ? string.Empty : "s")} of this policy on this object", Control = null, Path = null });
            }

            return _violations.ToImmutable();
        }

        /// <summary>Reads what a policy returned; returns a description of the problem if it is not violations.</summary>
        public string? Collect(JsValue value)
        {
            switch (value)
            {
                case JsValue v when v.IsUndefined() || v.IsNull():
                    return null;
                case JsString s:
                    return Add(new RawViolation(null, policy.Severity, Limit(s.ToString()), null, null));
                case JsArray array:
                    {
                        var length = (uint)array.Length;
                        for (uint i = 0; i < length; i++)
                        {
                            if (_violations.Count >= MaxViolations)
                            {
                                _more += length - i;
                                return null;
                            }

                            var item = array.Get(i);
                            if (item.IsUndefined() || item.IsNull())
                            {
                                continue;
                            }

                            if (item is JsArray)
                            {
                                return "returned a nested array; return a flat list of violations";
                            }

                            if (Collect(item) is { } problem)
                            {
                                return problem;
                            }
                        }

                        return null;
                    }

                case ObjectInstance obj when obj.Get("then") is Jint.Native.Function.Function:
                    return "returned a Promise; policies must be synchronous";
                case ObjectInstance obj:
                    return One(obj);
                default:
                    return $"returned {Describe(value)}, which is not a violation (return nothing, a message, an object {{ message, path, control }} or a list of these)";
            }
        }

        private string? One(ObjectInstance obj)
        {
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
                return $"returned control '{Limit(control.AsString())}', which policy.controls does not declare";
            }

            var severity = obj.Get("severity");
            var level = policy.Severity;
            if (severity.IsString())
            {
                switch (severity.AsString())
                {
                    case "error":
                        level = PolicySeverity.Error;
                        break;
                    case "warning":
                        level = PolicySeverity.Warning;
                        break;
                    default:
                        return $"returned severity '{Limit(severity.AsString())}'; use \"error\" or \"warning\"";
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

            return Add(new RawViolation(control.IsString() ? control.AsString() : null, level, Limit(message.AsString()), path.IsString() ? Limit(path.AsString()) : null, target));
        }

        private string? Add(RawViolation violation)
        {
            if (_violations.Count >= MaxViolations)
            {
                _more++;
            }
            else
            {
                _violations.Add(violation);
            }

            return null;
        }

        private static string Describe(JsValue value)
        {
            var text = value.IsObject() ? "an object" : value.IsSymbol() ? "a symbol" : value.ToString();
            return text.Length > 40 ? text[..40] + "…" : text;
        }
    }

    /// <summary>Every way a policy can fail, as a located policy error; nothing is left unclassified.</summary>
    internal static PolicyFailure Classify(Exception ex, PolicyDefinition policy, string entry, SourceLocation fallback) =>
        Classify(ex, policy.Specifier, policy.File, entry, fallback);

    internal static PolicyFailure Classify(Exception ex, string specifier, string file, string entry, SourceLocation fallback)
    {
        switch (ex)
        {
            case JavaScriptException js:
                var source = js.Location.SourceFile ?? string.Empty;
                var inPolicy = source == specifier;
                var where = inPolicy ? PolicyLoader.Locate(file, js.Location) : fallback;
                var helper = inPolicy || source.Length == 0 ? string.Empty : $" (in {source} line {js.Location.Start.Line})";
                return new PolicyFailure(Codes.PolicyRuntime, Limit($"{entry} threw {SafeText(js)}{helper}"), where);
            case StatementsCountOverflowException:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} ran past the statement limit (an endless loop?)", fallback);
            case MemoryLimitExceededException:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} allocated past the memory limit", fallback);
            case RegexMatchTimeoutException regex:
                return new PolicyFailure(Codes.PolicyLimit, Limit($"{entry} ran a regular expression past its time limit (/{regex.Pattern}/)"), fallback);
            case TimeoutException:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} ran past the time limit", fallback);
            case RecursionDepthOverflowException:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} recursed past the call-depth limit", fallback);
            case InsufficientExecutionStackException:
                return new PolicyFailure(Codes.PolicyLimit, $"{entry} recursed too deep for the native stack", fallback);
            case JintException jint:
                return new PolicyFailure(Codes.PolicyRuntime, Limit($"{entry} failed: {jint.Message}"), fallback);
            default:
                return new PolicyFailure(Codes.PolicyRuntime, Limit($"{entry} failed: {ex.GetType().Name}: {ex.Message}"), fallback);
        }
    }

    /// <summary>The error a policy threw, as text; a thrown value whose conversion itself misbehaves is described, not converted.</summary>
    private static string SafeText(JavaScriptException js)
    {
        try
        {
            return js.Error.ToString();
        }
        catch (Exception)
        {
            return "a value that cannot be shown";
        }
    }
}

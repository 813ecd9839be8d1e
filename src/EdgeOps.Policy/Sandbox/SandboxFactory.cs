using Acornima.Ast;
using Jint;

namespace EdgeOps.Policy.Sandbox;

/// <summary>
/// The one place policy engines are made. Every engine is strict, cannot reach the CLR or compile
/// strings, counts statements, memory, time, call depth and regex time, honours cancellation, sees a
/// stopped clock and has no Math.random. Modules are parsed once (<see cref="Prepare"/>) and
/// shared by every engine; engines themselves are single-threaded and never shared.
/// </summary>
internal static class SandboxFactory
{
    /// <summary>Host helpers, run as a script in every engine before any policy.</summary>
    private const string Prelude = """
        "use strict";
        Math.random = function () { throw new TypeError("Math.random is not available to policies: they must be deterministic"); };
        var __edgeops = (function () {
          const SEP = "\u001f";
          function freeze(value) {
            if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
              Object.freeze(value);
              for (const key of Object.keys(value)) freeze(value[key]);
            }
            return value;
          }
          // Records every property a policy reads from the context, so that a result can be reused
          // for another cluster whose context agrees on exactly those values. The context data is
          // reachable only through these proxies, which refuse every change.
          function readOnly() { throw new TypeError("the policy context is read-only"); }
          function track(target, path, log) {
            if (target === null || typeof target !== "object") return target;
            return new Proxy(target, {
              set: readOnly,
              defineProperty: readOnly,
              deleteProperty: readOnly,
              setPrototypeOf: readOnly,
              preventExtensions: readOnly,
              get(t, key, receiver) {
                if (typeof key === "symbol") return Reflect.get(t, key, receiver);
                const p = path + SEP + key;
                log[p] = true;
                return track(Reflect.get(t, key, receiver), p, log);
              },
              has(t, key) {
                if (typeof key !== "symbol") log[path + SEP + key] = true;
                return Reflect.has(t, key);
              },
              ownKeys(t) {
                log[path + SEP + "\u001e*"] = true;
                return Reflect.ownKeys(t);
              },
              getOwnPropertyDescriptor(t, key) {
                if (typeof key !== "symbol") log[path + SEP + key] = true;
                return Reflect.getOwnPropertyDescriptor(t, key);
              },
            });
          }
          function makeContext(cluster, workload, workloads, fleet, params, now, log, sink, facts) {
            const add = (severity) => (message, options) => {
              const v = Object.assign({}, options || {});
              v.message = message;
              v.severity = severity;
              sink.push(v);
            };
            // Proxies are made only for what a policy touches: most never look at the context.
            let trackedCluster, trackedWorkload, trackedWorkloads, trackedFleet;
            return Object.freeze({
              get cluster() { log.cluster = true; return trackedCluster === undefined ? (trackedCluster = track(cluster, "cluster", log)) : trackedCluster; },
              get workload() { log.workload = true; return trackedWorkload === undefined ? (trackedWorkload = track(workload, "workload", log)) : trackedWorkload; },
              get workloads() { log.workloads = true; return trackedWorkloads === undefined ? (trackedWorkloads = track(workloads, "workloads", log)) : trackedWorkloads; },
              get fleet() { log.fleet = true; return trackedFleet === undefined ? (trackedFleet = track(fleet, "fleet", log)) : trackedFleet; },
              params: params,
              now: now,
              deny: add("error"),
              warn: add("warning"),
              report(key, value) { facts[String(key)] = String(value); },
            });
          }
          // One policy call: a fresh context, the call, and what it read, denied and reported.
          function invoke(fn, subject, cluster, workload, workloads, fleet, params, now) {
            const log = {};
            const sink = [];
            const facts = {};
            const ctx = makeContext(cluster, workload, workloads, fleet, params, now, log, sink, facts);
            const result = fn(subject, ctx);
            return { result, sink, log: Object.keys(log), facts };
          }
          return Object.freeze({ freeze, invoke });
        })();
        """;

    private static readonly Lazy<IReadOnlyDictionary<string, Prepared<Module>>> HelperModules = new(() =>
        BuiltInModules.Modules.ToDictionary(m => m.Key, m => Engine.PrepareModule(BuiltInModules.ModuleSource(m.Key), m.Key), StringComparer.Ordinal));

    private static readonly Lazy<Prepared<Script>> PreparedPrelude = new(() => Engine.PrepareScript(Prelude, "edgeops-prelude"));

    /// <summary>Parses a module once; the result may be added to any number of engines.</summary>
    public static Prepared<Module> Prepare(string source, string name) => Engine.PrepareModule(source, name);

    public static Engine Create(PolicyLimits limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var engine = new Engine(options =>
        {
            options.Strict();
            options.DisableStringCompilation();
            options.LimitRecursion(limits.MaxRecursionDepth);
            options.MaxStatements(limits.MaxStatements);
            options.TimeoutInterval(limits.Timeout);
            options.LimitMemory(limits.MaxMemoryBytes);
            options.Constraints.RegexTimeout = limits.RegexTimeout;
            options.CancellationToken(cancellationToken);
            options.TimeSystem = new FixedTimeSystem(now);
            options.Interop.Enabled = false;
        });
        engine.Execute(PreparedPrelude.Value);
        foreach (var (specifier, module) in HelperModules.Value)
        {
            engine.Modules.Add(specifier, builder => builder.AddModule(module));
        }

        return engine;
    }
}

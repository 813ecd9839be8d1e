using Acornima.Ast;
using Jint;
using Jint.Constraints;

namespace EdgeOps.Policy.Sandbox;

/// <summary>
/// The one place policy engines are made. Every engine is strict, cannot reach the CLR or compile
/// strings, counts statements, memory, time, call depth and regex time, probes the native stack (so
/// recursion through coercions, Proxy traps and built-in callbacks is a catchable error, not a dead
/// process), honours cancellation, sees a stopped clock in UTC and has no Math.random, Atomics,
/// SharedArrayBuffer, ShadowRealm or Temporal. Modules are parsed once (<see cref="Prepare"/>) and
/// shared by every engine; engines themselves are single-threaded and never shared, and each policy
/// runs in an engine — a realm — of its own.
/// </summary>
internal static class SandboxFactory
{
    /// <summary>
    /// Host helpers, run as a script in every engine before any policy code. They keep their own
    /// references to the intrinsics they use, so a policy that replaces Object.keys or
    /// Array.prototype.push in its realm cannot change how its results are gathered. What would let a
    /// policy block, read the host's clock or time zone, or leave the sandbox is removed.
    /// </summary>
    private const string Prelude = """
        "use strict";
        var __edgeops = (function (global) {
          for (const name of ["Atomics", "SharedArrayBuffer", "ShadowRealm", "WeakRef", "FinalizationRegistry", "Temporal"]) {
            delete global[name];
          }
          Math.random = function () { throw new TypeError("Math.random is not available to policies: they must be deterministic"); };
          const SEP = "\u001f";
          const keys = Object.keys;
          const assign = Object.assign;
          const freezeOne = Object.freeze;
          const isFrozen = Object.isFrozen;
          const ProxyCtor = Proxy;
          const ownKeys = Reflect.ownKeys;
          const getDescriptor = Reflect.getOwnPropertyDescriptor;
          const reflectGet = Reflect.get;
          const reflectHas = Reflect.has;
          const TypeErrorCtor = TypeError;
          const StringCtor = String;
          function freeze(value) {
            if (value !== null && typeof value === "object" && !isFrozen(value)) {
              freezeOne(value);
              for (const key of keys(value)) freeze(value[key]);
            }
            return value;
          }
          // Records every property a policy reads from the context, so that a result can be reused
          // for another cluster whose context agrees on exactly those values. The context data is
          // reachable only through these proxies, which refuse every change: a property descriptor
          // hands out a tracking proxy too, never the data itself. Lists of plain values (a geofence's
          // coordinates) are the exception: frozen, handed out whole, and the call depends on their
          // whole content, so that walking a polygon costs no proxy per point.
          function readOnly() { throw new TypeErrorCtor("the policy context is read-only"); }
          function track(target, path, log) {
            if (target === null || typeof target !== "object") return target;
            if (isFrozen(target)) {
              // A list of plain values, frozen when the context was built: handed out whole, on its content.
              log[path + SEP + "\u001e#"] = true;
              return target;
            }
            return new ProxyCtor(target, {
              set: readOnly,
              defineProperty: readOnly,
              deleteProperty: readOnly,
              setPrototypeOf: readOnly,
              preventExtensions: readOnly,
              get(t, key, receiver) {
                if (typeof key === "symbol") return reflectGet(t, key, receiver);
                const p = path + SEP + key;
                log[p] = true;
                return track(reflectGet(t, key, receiver), p, log);
              },
              has(t, key) {
                if (typeof key !== "symbol") log[path + SEP + key] = true;
                return reflectHas(t, key);
              },
              ownKeys(t) {
                log[path + SEP + "\u001e*"] = true;
                return ownKeys(t);
              },
              getOwnPropertyDescriptor(t, key) {
                const descriptor = getDescriptor(t, key);
                if (typeof key === "symbol" || descriptor === undefined) return descriptor;
                const p = path + SEP + key;
                log[p] = true;
                if ("value" in descriptor) descriptor.value = track(descriptor.value, p, log);
                return descriptor;
              },
            });
          }
          // The context of the call under way. One context object serves every call of this realm (its
          // getters read these), so a call costs no new functions; the proxies are made only for what a
          // call touches, since most policies never look at the context.
          let cluster, workload, workloads, fleet, log, sink, facts;
          let trackedCluster, trackedWorkload, trackedWorkloads, trackedFleet;
          let ctx;
          const add = (severity) => (message, options) => {
            const v = assign({}, options || {});
            v.message = message;
            v.severity = severity;
            sink[sink.length] = v;
          };
          function makeContext(params, now) {
            return freezeOne({
              get cluster() { log.cluster = true; return trackedCluster === undefined ? (trackedCluster = track(cluster, "cluster", log)) : trackedCluster; },
              get workload() { log.workload = true; return trackedWorkload === undefined ? (trackedWorkload = track(workload, "workload", log)) : trackedWorkload; },
              get workloads() { log.workloads = true; return trackedWorkloads === undefined ? (trackedWorkloads = track(workloads, "workloads", log)) : trackedWorkloads; },
              get fleet() { log.fleet = true; return trackedFleet === undefined ? (trackedFleet = track(fleet, "fleet", log)) : trackedFleet; },
              params: params,
              now: now,
              deny: add("error"),
              warn: add("warning"),
              report(key, value) { facts[StringCtor(key)] = StringCtor(value); },
            });
          }
          // One policy call: the context set to this call's data, the call, and what it read, denied and reported.
          function invoke(fn, subject, clusterValue, workloadValue, workloadsValue, fleetValue, params, now) {
            if (ctx === undefined) ctx = makeContext(params, now);
            cluster = clusterValue;
            workload = workloadValue;
            workloads = workloadsValue;
            fleet = fleetValue;
            trackedCluster = trackedWorkload = trackedWorkloads = trackedFleet = undefined;
            log = {};
            sink = [];
            facts = {};
            const result = fn(subject, ctx);
            return { result, sink, log: keys(log), facts };
          }
          return freezeOne({ freeze, invoke });
        })(globalThis);
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
            options.LimitMemory(limits.MaxMemoryBytes);
            options.Constraints.RegexTimeout = limits.RegexTimeout;
            options.Constraints.StackOverflowGuard = true;
            // Wall time: one budget per policy call, armed by the caller around every entry into the engine
            // (PolicyRealm), instead of Jint's per-entry TimeoutInterval, which would restart for each entry.
            options.Constraint(new CallDeadline());
            options.CancellationToken(cancellationToken);
            options.TimeSystem = new FixedTimeSystem(now);
            options.TimeZone = TimeZoneInfo.Utc;
            options.Culture = System.Globalization.CultureInfo.InvariantCulture;
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

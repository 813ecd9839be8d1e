using System.Collections.Concurrent;
using System.Globalization;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// Remembers policy outcomes by subject and by the context values the call actually read. A call
/// is deterministic (fixed clock, no randomness, no I/O, frozen inputs), so when a later call has
/// the same subject and agrees on every context value the first one read, its outcome is the same.
/// A policy that never looks at the cluster is evaluated once per distinct object for the whole
/// fleet; one that reads <c>ctx.cluster.labels.tier</c> once per object and tier.
/// </summary>
internal sealed class OutcomeCache
{
    internal const char Separator = '\u001f';
    private const string EnumerateKeys = "\u001e*";

    /// <summary>Distinct read sets remembered per policy and subject.</summary>
    internal const int MaxGroupsPerSubject = 8;

    private readonly ConcurrentDictionary<(int Policy, string Subject), Slot> _slots = new();
    private long _hits;
    private long _misses;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public Outcome GetOrAdd(int policy, string subject, ContextView context, Func<Outcome> evaluate)
    {
        var slot = _slots.GetOrAdd((policy, subject), _ => new Slot());
        Group[] groups;
        lock (slot)
        {
            groups = [.. slot.Groups];
        }

        // Fingerprints are computed outside the lock (the context is immutable); the lock only guards the maps.
        foreach (var group in groups)
        {
            var fingerprint = Fingerprint(group.Dependencies, context);
            lock (slot)
            {
                if (group.Outcomes.TryGetValue(fingerprint, out var cached))
                {
                    Interlocked.Increment(ref _hits);
                    return cached;
                }
            }
        }

        var outcome = evaluate();
        Interlocked.Increment(ref _misses);
        var key = string.Join('\n', outcome.Dependencies);
        var own = Fingerprint([.. outcome.Dependencies], context);
        lock (slot)
        {
            var group = slot.Groups.Find(g => g.Key == key);
            if (group is null)
            {
                // A policy whose reads differ from call to call (say, a label named by the cluster itself) would
                // otherwise grow one group per cluster, and every lookup would scan them all: keep the newest few.
                if (slot.Groups.Count == MaxGroupsPerSubject)
                {
                    slot.Groups.RemoveAt(slot.Groups.Count - 1);
                }

                group = new Group(key, [.. outcome.Dependencies]);
                slot.Groups.Insert(0, group);
            }

            group.Outcomes[own] = outcome;
        }

        return outcome;
    }

    private static string Fingerprint(string[] dependencies, ContextView context)
    {
        if (dependencies.Length == 0)
        {
            return string.Empty;
        }

        var builder = new System.Text.StringBuilder();
        foreach (var dependency in dependencies)
        {
            builder.Append(context.Resolve(dependency)).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>The outcomes of calls on one subject, by the set of context values they read (newest set first).</summary>
    private sealed class Slot
    {
        public List<Group> Groups { get; } = [];
    }

    private sealed record Group(string Key, string[] Dependencies)
    {
        public Dictionary<string, Outcome> Outcomes { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>The context of one call as data, to read the values a cached call depended on.</summary>
    internal readonly record struct ContextView(Node? Cluster, Node? Workload, Node? Workloads, Node? Fleet)
    {
        public string Resolve(string dependency)
        {
            var segments = dependency.Split(Separator);
            Node? node = segments[0] switch
            {
                "cluster" => Cluster,
                "workload" => Workload,
                "workloads" => Workloads,
                "fleet" => Fleet,
                _ => null,
            };
            if (segments.Length == 1)
            {
                return node is null ? "absent" : "present";
            }

            for (var i = 1; i < segments.Length && node is not null; i++)
            {
                var segment = segments[i];
                if (segment == EnumerateKeys)
                {
                    return node switch
                    {
                        MappingNode map => "keys:" + string.Join(Separator, map.Entries.Select(e => e.Key.Value)),
                        SequenceNode seq => "length:" + seq.Count.ToString(CultureInfo.InvariantCulture),
                        _ => "none",
                    };
                }

                node = node switch
                {
                    MappingNode map => map[segment],
                    SequenceNode seq when segment == "length" => ScalarNode.Int(seq.Count, default),
                    SequenceNode seq when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < seq.Count => seq[index],
                    _ => null,
                };
            }

            return node switch
            {
                null => "absent",
                ScalarNode s => $"{(int)s.Kind}:{s.Value}",
                MappingNode => "object",
                SequenceNode => "array",
                _ => "?",
            };
        }
    }
}

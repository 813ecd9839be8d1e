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

    /// <summary>The read of a whole value (a frozen list of plain values handed out as it is): depends on its content.</summary>
    private const string WholeContent = "\u001e#";

    /// <summary>Distinct read sets remembered per policy and subject.</summary>
    internal const int MaxGroupsPerSubject = 8;

    private readonly ConcurrentDictionary<(int Policy, string Subject), Slot> _slots = new();
    private long _hits;
    private long _misses;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The outcome of an earlier call on this subject whose context agreed on every value that call read.</summary>
    public bool TryGet(int policy, string subject, ContextView context, out Outcome outcome)
    {
        // Lookups take no lock: a slot's groups are an array replaced whole, a group's outcomes a
        // concurrent map. Fingerprints are computed from the context, which is immutable.
        if (_slots.TryGetValue((policy, subject), out var slot))
        {
            foreach (var group in slot.Groups)
            {
                if (group.Outcomes.TryGetValue(Fingerprint(group.Paths, context), out outcome!))
                {
                    Interlocked.Increment(ref _hits);
                    return true;
                }
            }
        }

        outcome = null!;
        return false;
    }

    /// <summary>Remembers the outcome of a call (one <see cref="TryGet"/> did not find), under the context values it read.</summary>
    public Outcome Add(int policy, string subject, ContextView context, Outcome outcome)
    {
        Interlocked.Increment(ref _misses);
        var key = (policy, subject);
        if (!_slots.TryGetValue(key, out var slot))
        {
            slot = _slots.GetOrAdd(key, _ => new Slot());
        }

        var reads = string.Join('\n', outcome.Dependencies);
        Group? found = null;
        foreach (var group in slot.Groups)
        {
            if (group.Key == reads)
            {
                found = group;
                break;
            }
        }

        if (found is null)
        {
            lock (slot)
            {
                found = Array.Find(slot.Groups, g => g.Key == reads);
                if (found is null)
                {
                    // A policy whose reads differ from call to call (say, a label named by the cluster itself) would
                    // otherwise grow one group per cluster, and every lookup would scan them all: keep the newest few.
                    found = new Group(reads, [.. outcome.Dependencies.Select(d => d.Split(Separator))]);
                    slot.Groups = [found, .. slot.Groups.Take(MaxGroupsPerSubject - 1)];
                }
            }
        }

        found.Outcomes[Fingerprint(found.Paths, context)] = outcome;
        return outcome;
    }

    private static string Fingerprint(string[][] paths, ContextView context)
    {
        switch (paths.Length)
        {
            case 0:
                return string.Empty;
            case 1:
                return context.Resolve(paths[0]);
        }

        var builder = new System.Text.StringBuilder();
        foreach (var path in paths)
        {
            builder.Append(context.Resolve(path)).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>The outcomes of calls on one subject, by the set of context values they read (newest set first).</summary>
    private sealed class Slot
    {
        public volatile Group[] Groups = [];
    }

    /// <summary>One set of context reads (each split into its path) and the outcomes by the values read.</summary>
    private sealed record Group(string Key, string[][] Paths)
    {
        public ConcurrentDictionary<string, Outcome> Outcomes { get; } = new(concurrencyLevel: 1, capacity: 1, StringComparer.Ordinal);
    }

    /// <summary>The context of one call as data, to read the values a cached call depended on.</summary>
    internal readonly record struct ContextView(Node? Cluster, Node? Workload, Node? Workloads, Node? Fleet)
    {
        public string Resolve(string[] segments)
        {
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
                if (segment == WholeContent)
                {
                    return "content:" + ContentHash.Of(node);
                }

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

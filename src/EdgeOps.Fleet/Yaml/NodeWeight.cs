using System.Runtime.CompilerServices;

namespace EdgeOps.Fleet.Yaml;

/// <summary>
/// How large a node tree is once written out: nodes, and characters of scalar text, counting a shared
/// subtree as often as it appears. Aliases, <c>${…}</c> substitution and patches share nodes rather than
/// copy them, so a small tree in memory can stand for gigabytes of JSON; this is what bounds it.
/// Weights are remembered per node, so measuring costs time in the distinct nodes, not the expansion.
/// </summary>
public static class NodeWeight
{
    private static readonly ConditionalWeakTable<Node, StrongBox<(long Nodes, long Bytes)>> Cache = [];

    public static (long Nodes, long Bytes) Of(Node node)
    {
        if (node is ScalarNode scalar)
        {
            return (1, scalar.Value.Length);
        }

        if (Cache.TryGetValue(node, out var known))
        {
            return known.Value;
        }

        long nodes = 1, bytes = 0;
        switch (node)
        {
            case MappingNode map:
                foreach (var (key, value) in map.Entries)
                {
                    var (n, b) = Of(value);
                    nodes = Saturate(nodes + n + 1);
                    bytes = Saturate(bytes + b + key.Value.Length);
                }

                break;
            case SequenceNode seq:
                for (var i = 0; i < seq.Count; i++)
                {
                    var (n, b) = Of(seq[i]);
                    nodes = Saturate(nodes + n);
                    bytes = Saturate(bytes + b);
                }

                break;
        }

        Cache.AddOrUpdate(node, new StrongBox<(long, long)>((nodes, bytes)));
        return (nodes, bytes);
    }

    private static long Saturate(long value) => value < 0 ? long.MaxValue : value;
}

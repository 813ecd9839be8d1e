namespace EdgeOps.Fleet.Yaml;

/// <summary>
/// How large a node tree is once written out: nodes, and characters of scalar text, counting a shared
/// subtree as often as it appears. Aliases, <c>${…}</c> substitution and patches share nodes rather than
/// copy them, so a small tree in memory can stand for gigabytes of JSON; this is what bounds it. The walk
/// stops as soon as a limit is passed, so measuring a bomb costs no more than measuring the limit.
/// </summary>
public static class NodeWeight
{
    /// <summary>The tree's weight, or, once it passes either limit, the weight counted so far with <c>Over</c> set.</summary>
    public static (long Nodes, long Bytes, bool Over) Measure(Node node, long maxNodes, long maxBytes)
    {
        long nodes = 0, bytes = 0;
        var pending = new Stack<Node>();
        pending.Push(node);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            nodes++;
            switch (current)
            {
                case ScalarNode scalar:
                    bytes += scalar.Value.Length;
                    break;
                case MappingNode map:
                    foreach (var (key, value) in map.Entries)
                    {
                        bytes += key.Value.Length;
                        nodes++;
                        pending.Push(value);
                    }

                    break;
                case SequenceNode seq:
                    for (var i = 0; i < seq.Count; i++)
                    {
                        pending.Push(seq[i]);
                    }

                    break;
            }

            if (nodes > maxNodes || bytes > maxBytes)
            {
                return (nodes, bytes, true);
            }
        }

        return (nodes, bytes, false);
    }
}

using EdgeOps.Fleet.Yaml;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime.Descriptors;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// Builds JavaScript values straight from node trees (no JSON text in between), frozen when asked:
/// an object is built frozen (read-only, non-configurable properties, never extensible) and only when
/// first touched (<see cref="FrozenMapping"/>); an array is frozen by the engine's own
/// Object.freeze, taken before any policy code ran and called directly, so a policy that replaces
/// Object.freeze in its realm changes nothing here. Context data is not frozen (policies read it through
/// tracking proxies), except its lists of plain values, which are frozen and handed out whole.
/// </summary>
internal sealed class JsValues(Engine engine)
{
    private readonly Jint.Native.Function.Function _freeze = (Jint.Native.Function.Function)engine.Intrinsics.Object.Get("freeze");

    /// <summary>A frozen array of values already built.</summary>
    public JsValue Array(JsValue[] items) => Freeze(new JsArray(engine, items));

    public JsValue From(Node node, bool freeze) => Build(node, freeze);

    private JsValue Freeze(JsValue value) => _freeze.Call(JsValue.Undefined, [value]);

    /// <summary>A list whose items are scalars or such lists (a polygon's rings are lists of lists of numbers).</summary>
    internal static bool IsPlainData(SequenceNode seq)
    {
        foreach (var item in seq.Items)
        {
            if (item is MappingNode || (item is SequenceNode inner && !IsPlainData(inner)))
            {
                return false;
            }
        }

        return true;
    }

    internal JsValue Build(Node node, bool freeze)
    {
        switch (node)
        {
            case MappingNode map:
                {
                    if (!freeze)
                    {
                        var result = new JsObject(engine);
                        foreach (var (key, value) in map.Entries)
                        {
                            result.Set(key.Value, Build(value, freeze));
                        }

                        return result;
                    }

                    // Frozen, and built only when first touched: most policies read a few paths of an object.
                    return new FrozenMapping(engine, map, this);
                }

            case SequenceNode seq:
                {
                    if (!freeze && IsPlainData(seq))
                    {
                        // A list of plain values (coordinates, names) in a context is handed to a policy whole and
                        // frozen, not through a tracking proxy per element read: the call then depends on its content.
                        return Build(seq, freeze: true);
                    }

                    var items = new JsValue[seq.Count];
                    for (var i = 0; i < items.Length; i++)
                    {
                        items[i] = Build(seq[i], freeze);
                    }

                    return freeze ? Freeze(new JsArray(engine, items)) : new JsArray(engine, items);
                }

            case ScalarNode scalar:
                return scalar.Kind switch
                {
                    ScalarKind.Null => JsValue.Null,
                    ScalarKind.Bool => scalar.TryGetBool(out var b) && b ? JsBoolean.True : JsBoolean.False,
                    ScalarKind.Int or ScalarKind.Float when scalar.TryGetDouble(out var d) && double.IsFinite(d) => JsNumber.Create(d),
                    _ => JsString.Create(scalar.Value),
                };
            default:
                return JsValue.Undefined;
        }
    }
}

/// <summary>
/// A frozen object whose properties are made from its mapping the first time anything looks at it: a
/// read, a key listing, a descriptor, a write attempt (which then fails as on any frozen object). Jint
/// calls <see cref="Initialize"/> before every such operation, so a policy cannot tell it from an object
/// built in full; what it never touches (labels, probes, resources a policy does not judge) is never built.
/// Its prototype is the realm's Object.prototype, as for any object literal.
/// </summary>
internal sealed class FrozenMapping(Engine engine, MappingNode node, JsValues builder) : ObjectInstance(engine)
{
    public override bool Extensible => false;

    protected override void Initialize()
    {
        foreach (var (key, value) in node.Entries)
        {
            FastSetProperty(key.Value, new PropertyDescriptor(builder.Build(value, freeze: true), PropertyFlag.OnlyEnumerable));
        }
    }
}

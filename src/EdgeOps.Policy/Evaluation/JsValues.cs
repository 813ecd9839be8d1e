using EdgeOps.Fleet.Yaml;
using Jint;
using Jint.Native;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// Builds JavaScript values straight from node trees (no JSON text in between), freezing each
/// object and array with the engine's own Object.freeze when asked.
/// </summary>
internal sealed class JsValues(Engine engine)
{
    private readonly JsValue _freeze = engine.Intrinsics.Object.Get("freeze");

    /// <summary>A frozen array of values already built.</summary>
    public JsValue Array(JsValue[] items) => engine.Invoke(_freeze, new JsArray(engine, items));

    public JsValue From(Node node, bool freeze)
    {
        switch (node)
        {
            case MappingNode map:
                {
                    var result = new JsObject(engine);
                    foreach (var (key, value) in map.Entries)
                    {
                        result.Set(key.Value, From(value, freeze));
                    }

                    return freeze ? engine.Invoke(_freeze, result) : result;
                }

            case SequenceNode seq:
                {
                    var items = new JsValue[seq.Count];
                    for (var i = 0; i < items.Length; i++)
                    {
                        items[i] = From(seq[i], freeze);
                    }

                    var array = new JsArray(engine, items);
                    return freeze ? engine.Invoke(_freeze, array) : array;
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

using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Tests.Rendering;

public sealed class PatchingTests
{
    private static Node Parse(string yaml) => TestFleets.ParseYaml(yaml);

    private static string Json(Node node) => JsonText.Write(node);

    [Theory]
    [InlineData("{a: b}", "{a: c}", """{"a":"c"}""")]
    [InlineData("{a: b}", "{b: c}", """{"a":"b","b":"c"}""")]
    [InlineData("{a: b}", "{a: null}", """{}""")]
    [InlineData("{a: b, b: c}", "{a: null}", """{"b":"c"}""")]
    [InlineData("{a: [b]}", "{a: c}", """{"a":"c"}""")]
    [InlineData("{a: c}", "{a: [b]}", """{"a":["b"]}""")]
    [InlineData("{a: {b: c}}", "{a: {b: d, c: null}}", """{"a":{"b":"d"}}""")]
    [InlineData("{a: [{b: c}]}", "{a: [1]}", """{"a":[1]}""")]
    [InlineData("{e: null}", "{a: 1}", """{"e":null,"a":1}""")]
    [InlineData("{}", "{a: {bb: {ccc: null}}}", """{"a":{"bb":{}}}""")]
    public void MergePatch_FollowsRfc7386(string target, string patch, string expected) =>
        Assert.Equal(expected, Json(Patching.MergePatch(Parse(target), Parse(patch))));

    [Theory]
    [InlineData("{a: 1}", "[{op: add, path: /b, value: 2}]", """{"a":1,"b":2}""")]
    [InlineData("{a: [1, 3]}", "[{op: add, path: /a/1, value: 2}]", """{"a":[1,2,3]}""")]
    [InlineData("{a: [1]}", "[{op: add, path: /a/-, value: 2}]", """{"a":[1,2]}""")]
    [InlineData("{a: 1, b: 2}", "[{op: remove, path: /a}]", """{"b":2}""")]
    [InlineData("{a: [1, 2, 3]}", "[{op: remove, path: /a/1}]", """{"a":[1,3]}""")]
    [InlineData("{a: 1}", "[{op: replace, path: /a, value: x}]", """{"a":"x"}""")]
    [InlineData("{a: {b: 1}, c: {}}", "[{op: move, from: /a/b, path: /c/d}]", """{"a":{},"c":{"d":1}}""")]
    [InlineData("{a: [1]}", "[{op: copy, from: /a/0, path: /b}]", """{"a":[1],"b":1}""")]
    [InlineData("{a: 1}", "[{op: test, path: /a, value: 1.0}]", """{"a":1}""")]
    [InlineData("{\"a/b\": 1, \"m~n\": 2}", "[{op: replace, path: /a~1b, value: 3}, {op: remove, path: /m~0n}]", """{"a/b":3}""")]
    public void JsonPatch_FollowsRfc6902(string target, string patch, string expected) =>
        Assert.Equal(expected, Json(Patching.JsonPatch(Parse(target), (SequenceNode)Parse(patch))));

    [Theory]
    [InlineData("{a: 1}", "[{op: replace, path: /b, value: 2}]", "path '/b' does not exist")]
    [InlineData("{a: 1}", "[{op: remove, path: /a/b}]", "path '/a/b' does not exist")]
    [InlineData("{a: [1]}", "[{op: add, path: /a/5, value: 2}]", "out of range")]
    [InlineData("{a: 1}", "[{op: test, path: /a, value: 2}]", "test failed")]
    [InlineData("{a: {b: 1}}", "[{op: move, from: /a, path: /a/b/c}]", "into its own child")]
    [InlineData("{a: [1]}", "[{op: add, path: /a/01, value: 2}]", "out of range")]
    public void JsonPatch_InvalidOperation_ThrowsWithTheReason(string target, string patch, string reason)
    {
        var ex = Assert.Throws<PatchException>(() => Patching.JsonPatch(Parse(target), (SequenceNode)Parse(patch)));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Equal("t.yaml", ex.Location.Path);
    }

    [Fact]
    public void JsonPatch_FailingOperation_LeavesTheOriginalUntouched()
    {
        var target = Parse("{a: 1}");
        var before = Json(target);
        Assert.Throws<PatchException>(() => Patching.JsonPatch(target, (SequenceNode)Parse("[{op: add, path: /b, value: 2}, {op: remove, path: /zzz}]")));
        Assert.Equal(before, Json(target));
    }
}

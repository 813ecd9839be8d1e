using EdgeOps.Fleet.Model;
using EdgeOps.Policy.Evaluation;

namespace EdgeOps.Policy.Tests.Evaluation;

/// <summary>
/// How objects and the context reach a policy: the object deeply frozen with ordinary data
/// properties in document order, and one context object per realm whose data is the current call's.
/// </summary>
public sealed class MarshallingTests
{
    private const string Objects = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: first
          labels: {b: "2", a: "1"}
        spec:
          containers:
            - {name: main, image: "ghcr.io/example/app:1.0", ports: [{containerPort: 8080}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: second
        spec:
          containers: [{name: other, image: nginx}]
        """;

    private static IReadOnlyList<string> Messages(string validateBody, Cluster? cluster = null, string? objects = null)
    {
        var evaluation = PolicyHarness.Evaluate(PolicyHarness.PodPolicy(validateBody), objects ?? Objects, cluster);
        Assert.Empty(evaluation.Errors);
        return [.. evaluation.Violations.Select(v => v.Message)];
    }

    [Fact]
    public void Object_IsFrozenAllTheWayDown_WithReadOnlyEnumerableProperties()
    {
        var messages = Messages("""
              const c = object.spec.containers[0];
              const d = Object.getOwnPropertyDescriptor(object.metadata, "name");
              return [
                `frozen ${Object.isFrozen(object)} ${Object.isFrozen(object.metadata.labels)} ${Object.isFrozen(object.spec.containers)} ${Object.isFrozen(c)} ${Object.isFrozen(c.ports[0])}`,
                `descriptor ${d.value} writable=${d.writable} enumerable=${d.enumerable} configurable=${d.configurable}`,
                `extensible ${Object.isExtensible(object)} ${Reflect.set(object, "extra", 1)} ${Reflect.defineProperty(object.metadata, "name", { value: "x" })}`,
              ];
            """, objects: Objects.Split("---")[0]);
        Assert.Equal(
            [
                "frozen true true true true true",
                "descriptor first writable=false enumerable=true configurable=false",
                "extensible false false false",
            ],
            messages);
    }

    [Fact]
    public void Object_KeepsDocumentOrder_AndReadsLikeThePlainJson()
    {
        var messages = Messages("""
              return [Object.keys(object.metadata.labels).join(","), JSON.stringify(object.spec), String(object.spec.containers[0].ports[0].containerPort + 1)];
            """, objects: Objects.Split("---")[0]);
        Assert.Equal(["b,a", """{"containers":[{"name":"main","image":"ghcr.io/example/app:1.0","ports":[{"containerPort":8080}]}]}""", "8081"], messages);
    }

    [Fact]
    public void Object_IsFrozen_WhateverOperationTouchesItFirst()
    {
        // Objects are built as they are first touched; each probe below is the first thing done to object.spec.
        string[] probes =
        [
            "Object.isFrozen(spec) + ' ' + Object.isExtensible(spec) + ' ' + Object.isSealed(spec)",
            "Reflect.set(spec, 'extra', 1) + ' ' + Reflect.set(spec, 'replicas', 9) + ' ' + spec.replicas",
            "Reflect.defineProperty(spec, 'replicas', { value: 9 }) + ' ' + Reflect.deleteProperty(spec, 'replicas')",
            "Object.keys(spec).join(',')",
            "JSON.stringify(spec)",
            "('replicas' in spec) + ' ' + ('extra' in spec) + ' ' + spec.hasOwnProperty('paused')",
            "(Object.getPrototypeOf(spec) === Object.prototype) + ' ' + String(spec)",
            "JSON.stringify(Object.getOwnPropertyDescriptors(spec))",
            "Reflect.setPrototypeOf(spec, null) + ' ' + Reflect.preventExtensions(spec)",
            "JSON.stringify({ ...spec }) + ' ' + Object.entries(spec).length",
            "(() => { try { spec.replicas = 9; return 'assigned'; } catch (e) { return e.constructor.name; } })()",
            "(() => { const k = []; for (const key in spec) k.push(key); return k.join(','); })()",
        ];
        var objects = string.Join("---\n", probes.Select((_, i) => $"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec: {{replicas: 2, paused: false}}\n"));
        var policy = "const spec = object.spec;\n  switch (object.metadata.name) {\n" +
            string.Concat(probes.Select((probe, i) => $"    case 'p{i}': return String({probe});\n")) + "  }";

        Assert.Equal(
            [
                "true false true",
                "false false 2",
                "false false",
                "replicas,paused",
                """{"replicas":2,"paused":false}""",
                "true false true",
                "true [object Object]",
                """{"replicas":{"value":2,"writable":false,"enumerable":true,"configurable":false},"paused":{"value":false,"writable":false,"enumerable":true,"configurable":false}}""",
                "false true",
                """{"replicas":2,"paused":false} 2""",
                "TypeError",
                "replicas,paused",
            ],
            Messages(policy, objects: objects));
    }

    [Fact]
    public void Object_ThatAPolicyTriesToChange_ThrowsAndStaysAsItWas()
    {
        var messages = Messages("""
              let threw = false;
              try { object.metadata.labels.a = "changed"; } catch (e) { threw = e instanceof TypeError; }
              return `${threw} ${object.metadata.labels.a}`;
            """, objects: Objects.Split("---")[0]);
        Assert.Equal(["true 1"], messages);
    }

    [Fact]
    public void Context_IsTheCurrentCalls_WhenOneRealmServesManyCalls()
    {
        // One engine, two clusters, two objects: each call sees its own cluster and reports its own
        // violations, even though the realm and its context object are reused.
        var (set, diagnostics) = PolicyHarness.Load(("p.js", """
            export const policy = { name: "p", severity: "error", match: { kinds: ["Pod"] } };
            let first;
            export function validate(object, ctx) {
              first = first || ctx;
              ctx.deny(`${object.metadata.name} on ${ctx.cluster.name}`);
              if (first !== ctx) ctx.warn("a new context object");
            }
            """));
        Assert.Empty(diagnostics);
        using var engine = new PolicyEngine(set);
        var objects = PolicyHarness.Objects(Objects);
        foreach (var cluster in new[] { "north", "south" })
        {
            var evaluation = engine.Evaluate(StandaloneTarget.For(objects, PolicyHarness.Cluster($"metadata:\n  name: {cluster}\n")));
            Assert.Empty(evaluation.Errors);
            Assert.Equal([$"first on {cluster}", $"second on {cluster}"], evaluation.Violations.Select(v => v.Message).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Context_DeniedBeforeAThrow_IsNotCarriedIntoTheNextCall()
    {
        var (set, diagnostics) = PolicyHarness.Load(("p.js", """
            export const policy = { name: "p", severity: "error", match: { kinds: ["Pod"] } };
            export function validate(object, ctx) {
              ctx.deny(`from ${object.metadata.name}`);
              if (object.metadata.name === "first") throw new Error("boom");
            }
            """));
        Assert.Empty(diagnostics);
        var evaluation = PolicyHarness.Evaluate(set, Objects);
        Assert.Contains("boom", Assert.Single(evaluation.Errors).Message, StringComparison.Ordinal);
        Assert.Equal(["from second"], evaluation.Violations.Select(v => v.Message));
    }
}

using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Apply;

namespace EdgeOps.Reconciler.Tests.Apply;

public sealed class LiveComparerTests
{
    private static bool Holds(string desired, string live) => LiveComparer.Holds(JsonNode.Parse(desired), JsonNode.Parse(live));

    [Theory]
    [InlineData("""{"a":1}""", """{"a":1,"b":2}""", true)]
    [InlineData("""{"a":1}""", """{"a":2}""", false)]
    [InlineData("""{"a":{"b":"x"}}""", """{"a":{"b":"x","defaulted":true}}""", true)]
    [InlineData("""{"l":[{"n":"a"}]}""", """{"l":[{"n":"a","protocol":"TCP"}]}""", true)]
    [InlineData("""{"l":[{"n":"a"}]}""", """{"l":[{"n":"a"},{"n":"b"}]}""", false)]
    [InlineData("""{"r":{"memory":"1024Mi","cpu":"0.5"}}""", """{"r":{"memory":"1Gi","cpu":"500m"}}""", true)]
    [InlineData("""{"r":{"memory":"1Gi"}}""", """{"r":{"memory":"2Gi"}}""", false)]
    [InlineData("""{"empty":{}}""", """{}""", true)]
    [InlineData("""{"gone":"x"}""", """{}""", false)]
    [InlineData("""{"metadata":{"name":"a","resourceVersion":"1"}}""", """{"metadata":{"name":"a","resourceVersion":"9"}}""", true)]
    public void Holds_DesiredFieldsAgainstLive(string desired, string live, bool expected) => Assert.Equal(expected, Holds(desired, live));
}

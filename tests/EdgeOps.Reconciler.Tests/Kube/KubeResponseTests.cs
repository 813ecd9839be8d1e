using System.Net;
using System.Text.Json.Nodes;
using EdgeOps.Reconciler.Kube;

namespace EdgeOps.Reconciler.Tests.Kube;

/// <summary>The reason and message of a failed request, read from a Status object, or from whatever a proxy in front of the API server answered.</summary>
public sealed class KubeResponseTests
{
    [Fact]
    public void StatusObject_GivesItsReasonAndMessage()
    {
        var response = new KubeResponse(HttpStatusCode.Conflict, JsonNode.Parse("""{"kind":"Status","reason":"Conflict","message":"the object has been modified"}"""));

        Assert.Equal(("Conflict", "the object has been modified"), (response.Reason, response.Message));
    }

    [Theory]
    [InlineData("""{"message":{"code":502,"text":"upstream down"},"reason":7}""")]
    [InlineData("""["bad gateway"]""")]
    [InlineData("\"bad gateway\"")]
    [InlineData(null)]
    public void AnyOtherBody_HasTheHttpStatusForReasonAndMessage(string? body)
    {
        var response = new KubeResponse(HttpStatusCode.BadGateway, body is null ? null : JsonNode.Parse(body));

        Assert.Equal(("BadGateway", "HTTP 502"), (response.Reason, response.Message));
    }
}

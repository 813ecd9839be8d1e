using System.Net;
using System.Text.Json.Nodes;

namespace EdgeOps.Reconciler.Kube;

/// <summary>An API server answer: status, body, and for failures the Status object's reason and message.</summary>
public sealed record KubeResponse(HttpStatusCode Status, JsonNode? Body)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;

    public string Reason => Text("reason") ?? Status.ToString();

    public string Message => Text("message") ?? $"HTTP {(int)Status}";

    /// <summary>
    /// A string field of a Status object. What answers may be a proxy in front of the API server, whose error bodies
    /// have other shapes (a list, a message that is an object): those have no reason or message, and never throw.
    /// </summary>
    private string? Text(string field) =>
        Body is JsonObject status && status[field] is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : null;
}

/// <summary>The API server could not be reached or kept failing after every retry.</summary>
public sealed class KubeUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

using System.Net;
using System.Text.Json.Nodes;

namespace EdgeOps.Reconciler.Kube;

/// <summary>An API server answer: status, body, and for failures the Status object's reason and message.</summary>
public sealed record KubeResponse(HttpStatusCode Status, JsonNode? Body)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;

    public string Reason => Body?["reason"]?.GetValue<string>() ?? Status.ToString();

    public string Message => Body?["message"]?.GetValue<string>() ?? $"HTTP {(int)Status}";
}

/// <summary>The API server could not be reached or kept failing after every retry.</summary>
public sealed class KubeUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

using System.Globalization;
using System.Text.Json;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// Reading Sigstore's protobuf-JSON documents (bundles, trusted roots): int64 as strings or numbers, bytes as
/// standard or URL-safe base64, timestamps as RFC 3339. Every missing or mistyped field is a
/// <see cref="BundleException"/> naming its JSON path.
/// </summary>
internal static class ProtoJson
{
    // Duplicate keys are refused: "the last one wins" would let two readers see two different bundles.
    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32, CommentHandling = JsonCommentHandling.Disallow, AllowDuplicateProperties = false };

    /// <summary>Parses JSON that must be valid UTF-8 (System.Text.Json only notices bad UTF-8 when a string is read).</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> json, BundleFailure failure, string what)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json.Span))
        {
            throw new BundleException(failure, $"{what} is not valid UTF-8");
        }

        try
        {
            return JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new BundleException(failure, $"{what} is not valid JSON: {e.Message}");
        }
    }

    public static JsonElement Object(JsonElement parent, string name, string path, BundleFailure failure = BundleFailure.Malformed) =>
        OptionalObject(parent, name, path, failure) ?? throw new BundleException(failure, $"{path}.{name} is missing");

    public static JsonElement? OptionalObject(JsonElement parent, string name, string path, BundleFailure failure = BundleFailure.Malformed)
    {
        RequireObject(parent, path, failure);
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Object ? value : throw new BundleException(failure, $"{path}.{name} must be an object");
    }

    public static IReadOnlyList<JsonElement> Array(JsonElement parent, string name, string path, BundleFailure failure = BundleFailure.Malformed)
    {
        RequireObject(parent, path, failure);
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new BundleException(failure, $"{path}.{name} must be an array");
        }

        return [.. value.EnumerateArray()];
    }

    public static string String(JsonElement parent, string name, string path, BundleFailure failure = BundleFailure.Malformed) =>
        OptionalString(parent, name, path, failure) ?? throw new BundleException(failure, $"{path}.{name} is missing");

    public static string? OptionalString(JsonElement parent, string name, string path, BundleFailure failure = BundleFailure.Malformed)
    {
        RequireObject(parent, path, failure);
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new BundleException(failure, $"{path}.{name} must be a string");
    }

    public static byte[] Bytes(JsonElement parent, string name, string path, BundleFailure failure = BundleFailure.Malformed) =>
        OptionalBytes(parent, name, path, failure) ?? throw new BundleException(failure, $"{path}.{name} is missing");

    public static byte[]? OptionalBytes(JsonElement parent, string name, string path, BundleFailure failure = BundleFailure.Malformed)
    {
        var text = OptionalString(parent, name, path, failure);
        return text is null ? null : Base64(text, $"{path}.{name}", failure);
    }

    public static byte[] Base64(string text, string path, BundleFailure failure = BundleFailure.Malformed)
    {
        var standard = text.Replace('-', '+').Replace('_', '/');
        if (standard.Length % 4 != 0)
        {
            standard = standard.PadRight(standard.Length + (4 - (standard.Length % 4)), '=');
        }

        try
        {
            return Convert.FromBase64String(standard);
        }
        catch (FormatException)
        {
            throw new BundleException(failure, $"{path} is not valid base64");
        }
    }

    /// <summary>An int64 field, written as a JSON string (protobuf's rule) or a number; absent is 0.</summary>
    public static long Int64(JsonElement parent, string name, string path, BundleFailure failure = BundleFailure.Malformed)
    {
        RequireObject(parent, path, failure);
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return 0;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
        {
            return number;
        }

        if (value.ValueKind == JsonValueKind.String &&
            long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
        {
            return number;
        }

        throw new BundleException(failure, $"{path}.{name} must be an integer");
    }

    public static bool Has(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public static DateTimeOffset Timestamp(string text, string path, BundleFailure failure = BundleFailure.Malformed) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new BundleException(failure, $"{path} is not an RFC 3339 timestamp: {text}");

    private static void RequireObject(JsonElement element, string path, BundleFailure failure)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new BundleException(failure, $"{path} must be an object");
        }
    }
}

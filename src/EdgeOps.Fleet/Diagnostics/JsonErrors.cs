using System.Text.Json;

namespace EdgeOps.Fleet.Diagnostics;

/// <summary>
/// A <see cref="JsonException"/> said for people: what is wrong and where (line and byte, counted from 1), without
/// System.Text.Json's internals — the .NET type it was converting to, its zero-based "LineNumber: 0" suffix.
/// </summary>
public static class JsonErrors
{
    public static string Describe(JsonException ex)
    {
        var where = $"line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}";
        if (ex.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return $"{ex.Path ?? "$"} is not of the expected type ({where})";
        }

        var message = ex.Message;
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal) is var path and >= 0 ? path : message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        return $"{(cut >= 0 ? message[..cut] : message).TrimEnd(' ', '.', '|')} ({where})";
    }
}

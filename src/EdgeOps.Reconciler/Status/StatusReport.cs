using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.Status;

public sealed record StatusCondition(string Type, string Status, string Reason, string Message);

public sealed record FailedObject(string Object, string Reason, string? Location);

/// <summary>
/// The compact status of one cluster after a pass: what it runs, what it last tried, why it is not
/// further, and how the pass went. Written as status.json in the state folder (for
/// <c>edgeops status</c>) and into the cluster.
/// </summary>
public sealed record StatusReport
{
    public const string Schema = "edgeops.io/status-report/v1";

    [JsonPropertyName("schema")]
    public string SchemaName { get; init; } = Schema;

    public required string Cluster { get; init; }

    public required string Repository { get; init; }

    public string? AppliedRevision { get; init; }

    public string? LastAttemptedRevision { get; init; }

    public required string Outcome { get; init; }

    public required string Message { get; init; }

    public ImmutableArray<StatusCondition> Conditions { get; init; } = [];

    public ImmutableArray<string> Violations { get; init; } = [];

    public ImmutableArray<FailedObject> FailedObjects { get; init; } = [];

    public IReadOnlyDictionary<string, int> Counts { get; init; } = new Dictionary<string, int>();

    public double DurationSeconds { get; init; }

    public DateTimeOffset Time { get; init; }

    public DateTimeOffset? LastSuccessfulSync { get; init; }

    public DateTimeOffset? OfflineSince { get; init; }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static StatusReport? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<StatusReport>(File.ReadAllText(path), Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Save(string directory) => DurableFile.WriteAllBytes(Path.Combine(directory, "status.json"), System.Text.Encoding.UTF8.GetBytes(ToJson()));
}

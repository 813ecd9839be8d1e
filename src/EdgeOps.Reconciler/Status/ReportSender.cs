using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using EdgeOps.Reconciler.Serialization;
using EdgeOps.Reconciler.Transactions;
using EdgeOps.Trust.Ssh;

namespace EdgeOps.Reconciler.Status;

/// <summary>Where and how often an agent reports to the fleet's collector.</summary>
public sealed record CollectorOptions
{
    public required Uri Url { get; init; }

    /// <summary>A report is sent when it changes and at least this often when it does not.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Reports kept on disk while the collector is unreachable; the oldest go first beyond this.</summary>
    public int OutboxLimit { get; init; } = 256;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The HTTP stack (tests and benchmarks count bytes or inject faults here); null: the default.</summary>
    public HttpMessageHandler? Handler { get; init; }
}

/// <summary>What the agent remembers of its reporting between passes and restarts (STATE/collector.json).</summary>
public sealed record ReportingState
{
    public long LastSequence { get; init; }

    public DateTimeOffset? LastQueuedAt { get; init; }

    /// <summary>The last queued report without its time and sequence: an unchanged one waits for the heartbeat.</summary>
    public string? LastEssence { get; init; }

    public DateTimeOffset? UnreachableSince { get; init; }

    public string? LastError { get; init; }

    /// <summary>Why the collector last refused a report for good (kept after later reports go through).</summary>
    public string? LastRefused { get; init; }

    /// <summary>Reports dropped from a full outbox since the collector was last reached.</summary>
    public int Dropped { get; init; }

    /// <summary>Of the revisions the last accepted report named, those the collector says are halted.</summary>
    public ImmutableArray<string> Halted { get; init; } = [];

    /// <summary>The rollout gates the last receipt carried, and when.</summary>
    public RolloutStatus? Rollout { get; init; }

    public DateTimeOffset? RolloutAt { get; init; }
}

/// <summary>
/// Sends the agent's signed status reports to the collector: queued on disk first (an outbox, bounded, in order),
/// then sent oldest first, so a report made offline arrives later rather than never. A report is queued when it
/// says something new, or when the heartbeat is due. The collector's receipts tell the agent which revisions are
/// halted and how the rollout it waits on stands.
/// </summary>
public sealed class ReportSender : IDisposable
{
    private readonly CollectorOptions _options;
    private readonly string _outbox;
    private readonly string _statePath;
    private readonly TimeProvider _clock;
    private readonly CollectorClient _client;

    public ReportSender(CollectorOptions options, string stateDirectory, TimeProvider clock)
    {
        _options = options;
        _clock = clock;
        _outbox = Path.Combine(stateDirectory, "outbox");
        _statePath = Path.Combine(stateDirectory, "collector.json");
        _client = new CollectorClient(options.Url, options.Handler, options.Timeout);
        State = Load(_statePath);
    }

    public ReportingState State { get; private set; }

    public CollectorClient Client => _client;

    public CollectorOptions Options => _options;

    /// <summary>Reports waiting to be sent.</summary>
    public int Pending => Directory.Exists(_outbox) ? Directory.GetFiles(_outbox, "*.json").Length : 0;

    /// <summary>Signs and queues <paramref name="report"/> if it says something new or the heartbeat is due; true when queued.</summary>
    public bool Enqueue(AgentReport report, SshSigner signer)
    {
        var now = _clock.GetUtcNow();
        var essence = JsonSerializer.Serialize(report.Essence(), CollectorJson.Default.AgentReport);
        if (essence == State.LastEssence && State.LastQueuedAt is { } last && now - last < _options.Heartbeat)
        {
            return false;
        }

        var sequence = Math.Max(State.LastSequence + 1, now.ToUnixTimeMilliseconds());
        var body = JsonSerializer.Serialize(report with { Sequence = sequence, Time = now }, CollectorJson.Default.AgentReport);
        var signature = signer.Sign(Encoding.UTF8.GetBytes(body), Pipeline.Reconciler.ReportNamespace);
        Directory.CreateDirectory(_outbox);
        DurableFile.WriteAllBytes(Path.Combine(_outbox, $"{sequence:D19}.json"), JsonSerializer.SerializeToUtf8Bytes(new OutboxEntry(sequence, body, signature), CollectorJson.Default.OutboxEntry));
        var dropped = 0;
        foreach (var old in Queued().SkipLast(_options.OutboxLimit))
        {
            File.Delete(old);
            dropped++;
        }

        Save(State with { LastSequence = sequence, LastQueuedAt = now, LastEssence = essence, Dropped = State.Dropped + dropped });
        return true;
    }

    /// <summary>Sends what is queued, oldest first, until the outbox is empty or the collector cannot be reached.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var state = State;
        foreach (var path in Queued())
        {
            OutboxEntry? entry;
            try
            {
                entry = JsonSerializer.Deserialize(File.ReadAllBytes(path), CollectorJson.Default.OutboxEntry);
            }
            catch (JsonException)
            {
                entry = null; // torn by a power cut before the rename: nothing to send
            }

            if (entry is null)
            {
                File.Delete(path);
                continue;
            }

            try
            {
                var receipt = await _client.SendReportAsync(entry.Body, entry.Signature, cancellationToken).ConfigureAwait(false);
                File.Delete(path);
                state = state with
                {
                    UnreachableSince = null,
                    LastError = null,
                    Dropped = 0,
                    Halted = receipt.Halted.IsDefault ? [] : receipt.Halted,
                    Rollout = receipt.Rollout,
                    RolloutAt = _clock.GetUtcNow(),
                };
            }
            catch (CollectorRejectedException ex)
            {
                // Refused for good (a replay after a restore, a key the fleet no longer lists): keep the rest moving.
                File.Delete(path);
                state = state with { UnreachableSince = null, LastError = ex.Message, LastRefused = ex.Message };
            }
            catch (CollectorUnavailableException ex)
            {
                state = state with { UnreachableSince = state.UnreachableSince ?? _clock.GetUtcNow(), LastError = ex.Message };
                break;
            }
        }

        Save(state);
    }

    /// <summary>The gates of <paramref name="revision"/>'s rollout from the last receipt, if it is about that revision and not older than two heartbeats.</summary>
    public RolloutStatus? RecentRollout(string revision) =>
        State.Rollout is { } rollout && rollout.Revision == revision && State.RolloutAt is { } at && _clock.GetUtcNow() - at < 2 * _options.Heartbeat ? rollout : null;

    public bool IsHalted(string? revision) => revision is not null && State.Halted.Contains(revision);

    private IEnumerable<string> Queued() =>
        Directory.Exists(_outbox) ? Directory.GetFiles(_outbox, "*.json").Order(StringComparer.Ordinal) : [];

    private void Save(ReportingState state)
    {
        State = state;
        DurableFile.WriteAllBytes(_statePath, JsonSerializer.SerializeToUtf8Bytes(state, StateJson.Default.ReportingState));
    }

    private static ReportingState Load(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), StateJson.Default.ReportingState) ?? new ReportingState() : new ReportingState();
        }
        catch (JsonException)
        {
            return new ReportingState(); // damaged: start over; the sequence restarts from the clock, still above the old one
        }
    }

    public void Dispose() => _client.Dispose();
}

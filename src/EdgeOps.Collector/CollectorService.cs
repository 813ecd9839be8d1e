using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using EdgeOps.Collector.Storage;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Status;
using EdgeOps.Trust.Ssh;

namespace EdgeOps.Collector;

public sealed record CollectorSettings
{
    /// <summary>A report body larger than this is refused (413): a status report is a few hundred bytes.</summary>
    public int MaxReportBytes { get; init; } = 16 * 1024;

    /// <summary>A cluster silent for longer is stale: shown so, and not waited for by its wave's gate.</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How long computed cluster lists and gates are reused (a fleet's agents all ask at once).</summary>
    public TimeSpan CacheFor { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The operator's bearer token for halt and resume; null: only from loopback.</summary>
    public string? AdminToken { get; init; }
}

/// <summary>The outcome of one POSTed report: an HTTP status, and a receipt or a problem.</summary>
public sealed record IntakeResult(int Status, ReportReceipt? Receipt, string? Problem)
{
    public static IntakeResult Refused(int status, string problem) => new(status, null, problem);
}

/// <summary>
/// The collector's work, apart from HTTP: verifies a report against the key its cluster's Cluster object lists,
/// refuses replays, stores reports in batches (one transaction for all that arrive together: group commit), and
/// computes the cluster list and rollout gates from the stored reports.
/// </summary>
public sealed class CollectorService : IAsyncDisposable
{
    private readonly ReportStore _store;
    private readonly FleetRegistry _fleet;
    private readonly TimeProvider _clock;
    private readonly Channel<(StoredReport Report, TaskCompletionSource<bool> Done)> _queue = Channel.CreateBounded<(StoredReport, TaskCompletionSource<bool>)>(new BoundedChannelOptions(4096) { SingleReader = true });
    private readonly Task _writer;
    private readonly DateTimeOffset _started;
    private readonly SemaphoreSlim _cacheLock = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (DateTimeOffset At, RolloutStatus Status)> _rollouts = new(StringComparer.Ordinal);
    // The latest report per cluster, kept current by this replica's intake and merged with the database (other
    // replicas' intake) every CacheFor: a report only ever replaces one with a lower sequence.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ClusterReport> _reports = new(StringComparer.Ordinal);
    private HaltCache? _cache; // replaced whole, so readers on other threads never see half of one

    public CollectorService(CollectorSettings settings, ReportStore store, FleetRegistry fleet, TimeProvider? clock = null)
    {
        Settings = settings;
        _store = store;
        _fleet = fleet;
        _clock = clock ?? TimeProvider.System;
        _started = _clock.GetUtcNow();
        _writer = Task.Run(WriteLoopAsync);
    }

    public CollectorSettings Settings { get; }

    public FleetRegistry Fleet => _fleet;

    public ReportStore Store => _store;

    /// <summary>Verifies and stores one report: 400 malformed, 401 unsigned, 403 not signed by the cluster's listed key, 409 replayed or older, 413 too large.</summary>
    public async Task<IntakeResult> AcceptAsync(ReadOnlyMemory<byte> body, string? signature, CancellationToken cancellationToken)
    {
        if (body.Length > Settings.MaxReportBytes)
        {
            return IntakeResult.Refused(413, $"a report is at most {Settings.MaxReportBytes} bytes; this one is larger");
        }

        if (string.IsNullOrWhiteSpace(signature))
        {
            return IntakeResult.Refused(401, $"the report is unsigned: send its SSHSIG (namespace {Reconciler.Pipeline.Reconciler.ReportNamespace}) in the {CollectorClient.SignatureHeader} header");
        }

        AgentReport? report;
        try
        {
            report = JsonSerializer.Deserialize(body.Span, CollectorJson.Default.AgentReport);
        }
        catch (JsonException ex)
        {
            return IntakeResult.Refused(400, $"the report is not valid JSON: {EdgeOps.Fleet.Diagnostics.JsonErrors.Describe(ex)}");
        }

        if (report is null || string.IsNullOrEmpty(report.Cluster) || report.Sequence <= 0)
        {
            return IntakeResult.Refused(400, "a report needs cluster, a positive seq and outcome");
        }

        if ((report.Lat, report.Lon) is not (null, null) && GeoPoint.OnTheGlobe(report.Lat, report.Lon) is null)
        {
            return IntakeResult.Refused(400, "a report's position is lat and lon together, latitude -90 to 90 and longitude -180 to 180");
        }

        if (!_fleet.Current.Clusters.TryGetValue(report.Cluster, out var registered))
        {
            return IntakeResult.Refused(403, $"the fleet has no cluster named '{report.Cluster}'");
        }

        if (registered.ReportKey is not { } key)
        {
            return IntakeResult.Refused(403, $"cluster '{report.Cluster}' may not report: {registered.KeyProblem}");
        }

        SshSignature parsed;
        try
        {
            parsed = SshSignature.Parse(CollectorClient.ArmoredSignature(signature));
        }
        catch (FormatException ex)
        {
            return IntakeResult.Refused(401, $"the signature is not an SSHSIG: {ex.Message}");
        }

        if (!parsed.Key.Equals(key))
        {
            return IntakeResult.Refused(403, $"the report is signed by {parsed.Key.Fingerprint}, not by the key cluster '{report.Cluster}' lists ({key.Fingerprint})");
        }

        if (!parsed.Verify(body.Span, Reconciler.Pipeline.Reconciler.ReportNamespace))
        {
            return IntakeResult.Refused(403, "the signature does not verify: the report was altered or signed for another namespace");
        }

        var stored = new StoredReport(report.Cluster, report.Sequence, _clock.GetUtcNow(), Encoding.UTF8.GetString(body.Span));
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync((stored, done), cancellationToken).ConfigureAwait(false);
        if (!await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            return IntakeResult.Refused(409, $"report {report.Sequence} of cluster '{report.Cluster}' is not newer than the last one accepted (a replay, or a late copy)");
        }

        // A report that changes what the cluster runs or tried makes the gates of the revisions it names be
        // computed afresh (a heartbeat does not).
        var fresh = new ClusterReport(report.Cluster, stored.ReceivedAt, report);
        var previous = _reports.TryGetValue(report.Cluster, out var seen) ? seen.Report : null;
        _reports.AddOrUpdate(report.Cluster, fresh, (_, old) => old.Report.Sequence < report.Sequence ? fresh : old);
        if (previous is null || previous.Applied != report.Applied || previous.Attempted != report.Attempted || previous.Outcome != report.Outcome
            || previous.Healthy != report.Healthy || previous.Rollout?.Revision != report.Rollout?.Revision)
        {
            foreach (var revision in new[] { report.Applied, report.Attempted, report.Rollout?.Revision, previous?.Applied, previous?.Attempted })
            {
                if (revision is not null)
                {
                    _rollouts.TryRemove(revision, out _);
                }
            }
        }

        return new IntakeResult(200, await ReceiptAsync(report, cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>What <c>outcome</c> may ask for: how a cluster's last pass ended, or Silent for one that never reported.</summary>
    public static readonly ImmutableArray<string> Outcomes = [.. Enum.GetNames<PassOutcome>(), "Silent"];

    /// <summary>
    /// Every cluster of the fleet with its last report, filtered by label selector (as kubectl's -l), outcome,
    /// wave name and staleness. A selector or outcome that cannot be understood is a <see cref="FormatException"/>.
    /// </summary>
    public async Task<List<ClusterRow>> ClustersAsync(string? selector, string? outcome, string? wave, bool? stale, CancellationToken cancellationToken)
    {
        var filter = LabelSelector.Everything;
        if (selector is not null && !SelectorParser.TryParse(selector, out filter, out var problem))
        {
            throw new FormatException(problem);
        }

        var wanted = outcome is null ? null : Outcomes.FirstOrDefault(o => string.Equals(o, outcome, StringComparison.OrdinalIgnoreCase))
            ?? throw new FormatException($"outcome '{outcome}' is not one of {string.Join(", ", Outcomes)}");
        var (reports, _) = await LatestAsync(cancellationToken).ConfigureAwait(false);
        var fleet = _fleet.Current;
        var now = _clock.GetUtcNow();
        var rows = new List<ClusterRow>(fleet.ClusterList.Count);
        foreach (var cluster in fleet.ClusterList)
        {
            var report = reports.GetValueOrDefault(cluster.Name);
            var waveName = report?.Report.Rollout?.WaveName is { Length: > 0 } reported ? reported : WaveName(fleet, cluster);
            var row = new ClusterRow
            {
                Cluster = cluster.Name,
                Labels = cluster.Labels.ToImmutableDictionary(StringComparer.Ordinal),
                Wave = waveName,
                ReceivedAt = report?.ReceivedAt,
                Stale = report is null || now - report.ReceivedAt > Settings.StaleAfter,
                Silent = report is null,
                Report = report?.Report,
                Lat = report?.Report.Lat ?? cluster.GeoLocation?.Lat,
                Lon = report?.Report.Lon ?? cluster.GeoLocation?.Lon,
            };
            if (filter.Matches(cluster.Labels) && (wanted is null || string.Equals(row.Report?.Outcome ?? "Silent", wanted, StringComparison.OrdinalIgnoreCase))
                && (wave is null || row.Wave == wave) && (stale is null || row.Stale == stale))
            {
                rows.Add(row);
            }
        }

        return rows;
    }

    /// <summary>The rollout of <paramref name="revision"/> wave by wave; records waves that opened or passed and halts the failures call for.</summary>
    public async Task<RolloutStatus> RolloutAsync(string revision, CancellationToken cancellationToken)
    {
        var (reports, halts) = await LatestAsync(cancellationToken).ConfigureAwait(false);
        var halt = halts.FirstOrDefault(h => h.Revision == revision);
        var marks = await _store.WaveMarksAsync(revision, cancellationToken).ConfigureAwait(false);
        var resumed = await _store.ResumedAtAsync(revision, cancellationToken).ConfigureAwait(false);
        // A cluster that never reported is waited for until the collector has been up for StaleAfter: a collector
        // that just started has not heard from anyone yet.
        var now = _clock.GetUtcNow();
        var (status, changes) = RolloutGates.Compute(revision, _fleet.Current, reports, halt, marks, resumed, now, Settings.StaleAfter, silentIsStale: now - _started > Settings.StaleAfter);
        foreach (var mark in changes.Marks)
        {
            await _store.MarkWaveAsync(mark, cancellationToken).ConfigureAwait(false);
        }

        if (changes.Halt is { } newHalt)
        {
            await _store.HaltAsync(newHalt, cancellationToken).ConfigureAwait(false);
            Invalidate();
        }

        if (_rollouts.Count > 256)
        {
            _rollouts.Clear(); // old revisions' gates are not asked for again; keep the memory bounded
        }

        _rollouts[revision] = (_clock.GetUtcNow(), status);
        return status;
    }

    public async Task<RolloutStatus> HaltAsync(string revision, string reason, string by, CancellationToken cancellationToken)
    {
        await _store.HaltAsync(new Halt(revision, reason, _clock.GetUtcNow(), by), cancellationToken).ConfigureAwait(false);
        Invalidate();
        return await RolloutAsync(revision, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RolloutStatus> ResumeAsync(string revision, CancellationToken cancellationToken)
    {
        await _store.ResumeAsync(revision, _clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        Invalidate();
        return await RolloutAsync(revision, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ReportReceipt> ReceiptAsync(AgentReport report, CancellationToken cancellationToken)
    {
        var (_, halts) = await LatestAsync(cancellationToken).ConfigureAwait(false);
        string?[] named = [report.Applied, report.Attempted, report.Rollout?.Revision];
        var halted = named.OfType<string>().Distinct(StringComparer.Ordinal).Where(r => halts.Any(h => h.Revision == r)).ToImmutableArray();
        RolloutStatus? rollout = null;
        if (report.Rollout is { } position)
        {
            var now = _clock.GetUtcNow();
            rollout = _rollouts.TryGetValue(position.Revision, out var cached) && now - cached.At < Settings.CacheFor
                ? cached.Status
                : await RolloutAsync(position.Revision, cancellationToken).ConfigureAwait(false);
        }

        if (rollout is { Halted: true } && !halted.Contains(rollout.Revision))
        {
            halted = halted.Add(rollout.Revision);
        }

        return new ReportReceipt(halted, rollout is null ? null : ForAgent(rollout, report.Rollout!.Wave));
    }

    /// <summary>What a waiting agent needs of a rollout: the gates of the waves up to its own, without the counts shown to people.</summary>
    private static RolloutStatus ForAgent(RolloutStatus rollout, int wave) => rollout with
    {
        HaltReason = null,
        Waves = [.. rollout.Waves.Where(w => w.Index <= wave).Select(w => new WaveStatus
        {
            Name = string.Empty,
            Index = w.Index,
            Gate = w.Gate,
            OpenedAt = w.OpenedAt,
            PassedAt = w.PassedAt,
            BatchesPassed = w.BatchesPassed,
        })],
    };

    private static string WaveName(FleetSnapshot fleet, Fleet.Model.Cluster cluster)
    {
        var wave = RolloutPlanner.WaveOf(fleet.Rollout, cluster);
        return wave < fleet.Rollout.Waves.Length ? fleet.Rollout.Waves[wave].Name : RolloutPlanner.RestWave;
    }

    /// <summary>The latest report per cluster and the halts, merged from the database at most once per <see cref="CollectorSettings.CacheFor"/>.</summary>
    private async Task<(IReadOnlyDictionary<string, ClusterReport> Reports, List<Halt> Halts)> LatestAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        if (Volatile.Read(ref _cache) is { } fresh && now - fresh.At < Settings.CacheFor)
        {
            return (_reports, fresh.Halts);
        }

        await _cacheLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _cache) is { } again && now - again.At < Settings.CacheFor)
            {
                return (_reports, again.Halts);
            }

            foreach (var stored in await _store.ReportsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_reports.TryGetValue(stored.Cluster, out var known) && known.Report.Sequence >= stored.Sequence)
                {
                    continue;
                }

                if (JsonSerializer.Deserialize(stored.Body, CollectorJson.Default.AgentReport) is { } report)
                {
                    var loaded = new ClusterReport(stored.Cluster, stored.ReceivedAt, report);
                    _reports.AddOrUpdate(stored.Cluster, loaded, (_, old) => old.Report.Sequence < report.Sequence ? loaded : old);
                }
            }

            var halts = await _store.HaltsAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _cache, new HaltCache(now, halts));
            return (_reports, halts);
        }
        finally
        {
            _cacheLock.Release();
        }
    }

    private void Invalidate()
    {
        Volatile.Write(ref _cache, null);
        _rollouts.Clear();
    }

    /// <summary>Group commit: whatever reports are waiting go into one transaction, and each sender learns whether its report was newer.</summary>
    private async Task WriteLoopAsync()
    {
        var batch = new List<(StoredReport Report, TaskCompletionSource<bool> Done)>(512);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 512 && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                // Two reports of one cluster in a batch: the store keeps the newer, and refuses the older as a replay.
                var stored = await _store.UpsertAsync([.. batch.Select(b => b.Report)], CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(stored[i]);
                }

            }
            catch (Exception ex)
            {
                foreach (var (_, done) in batch)
                {
                    done.TrySetException(ex);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _cacheLock.Dispose();
    }
}

/// <summary>The halts as read at one time.</summary>
internal sealed record HaltCache(DateTimeOffset At, List<Halt> Halts);

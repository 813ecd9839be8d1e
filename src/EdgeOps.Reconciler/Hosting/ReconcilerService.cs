using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeOps.Reconciler.Hosting;

/// <summary>
/// The reconciler as a daemon: a pass, then a wait of the interval with ±10% jitter (so a fleet
/// does not poll in step), after a failure an exponential backoff from 10 s up to the interval, and
/// after a step asked to requeue, the time it named (waiting is not failure). Stopping (SIGTERM)
/// cancels the wait, cancels a pass in flight between steps (its journal makes the next start finish
/// or undo it) and releases the cluster lease. A pass that crashes (a defect) stops the daemon with a
/// non-zero exit, after its status was written. A quarter of a second into each wait, the agent gives
/// back the memory it holds but does not use while it waits.
/// </summary>
public sealed partial class ReconcilerService(
    ReconcilerOptions options,
    KubeApi api,
    TimeSpan interval,
    IHostApplicationLifetime lifetime,
    ILogger<ReconcilerService> logger) : BackgroundService
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(10);

    /// <summary>How long after a pass the agent gives back its idle memory (<see cref="IdleMemory"/>).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(250);

    /// <summary>The defect that stopped the daemon, if one did.</summary>
    public Exception? Fault { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reconciler = new Pipeline.Reconciler(options, api);
        var failures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                PassResult result;
                try
                {
                    result = await reconciler.RunOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Fault = ex;
                    PassCrashed(logger, ex.GetType().Name, ex.Message, ex);
                    lifetime.StopApplication();
                    return;
                }

                failures = result.Succeeded ? 0 : failures + 1;
                PassFinished(logger, result.Outcome, result.AppliedRevision ?? "-", result.AttemptedRevision ?? "-", result.Report.DurationSeconds, result.Message);
                foreach (var failed in result.Report.FailedObjects)
                {
                    ObjectFailed(logger, failed.Object, failed.Location ?? "-", failed.Reason);
                }

                // A step that asks to come back later is heard, but never later than the interval: drift
                // correction goes on while a revision waits hours for its wave or window.
                var delay = result.RequeueAfter is { } requeue ? (requeue < interval ? requeue : Jitter(interval)) : failures == 0 ? Jitter(interval) : Backoff(failures);
                NextPass(logger, delay.TotalSeconds);
                try
                {
                    // A live position that changes placement wakes the loop early.
                    using var woken = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    var wake = reconciler.WakeAsync(woken.Token);
                    var waited = Task.WhenAny(Task.Delay(delay, options.Clock, woken.Token), wake);
                    if (options.ReleaseMemoryWhenIdle && await Task.WhenAny(waited, Task.Delay(Settle, woken.Token)).ConfigureAwait(false) != waited)
                    {
                        // Once the pass's stragglers are done (the log lines written, connections settled), not
                        // before: what they touch would otherwise be paged straight back in for the whole wait.
                        MemoryReleased(logger, IdleMemory.Release());
                    }

                    await waited.ConfigureAwait(false);
                    await woken.CancelAsync().ConfigureAwait(false);
                    stoppingToken.ThrowIfCancellationRequested();
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            using var release = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await reconciler.ReleaseAsync(release.Token).ConfigureAwait(false);
            LeaseReleased(logger);
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var seconds = FirstBackoff.TotalSeconds * Math.Pow(2, Math.Min(failures - 1, 16));
        return TimeSpan.FromSeconds(Math.Min(seconds, interval.TotalSeconds));
    }

    private static TimeSpan Jitter(TimeSpan value) => value * (0.9 + (Random.Shared.NextDouble() * 0.2));

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "pass {Outcome}: applied={Applied} attempted={Attempted} duration={DurationSeconds:0.00}s: {Message}")]
    private static partial void PassFinished(ILogger logger, PassOutcome outcome, string applied, string attempted, double durationSeconds, string message);

    [LoggerMessage(EventId = 2, Level = LogLevel.Critical, Message = "pass crashed ({Type}): {Reason}; stopping")]
    private static partial void PassCrashed(ILogger logger, string type, string reason, Exception exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "next pass in {Seconds:0}s")]
    private static partial void NextPass(ILogger logger, double seconds);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "object {Object} failed ({Location}): {Reason}")]
    private static partial void ObjectFailed(ILogger logger, string @object, string location, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "idle: {Kibibytes} KiB of clean file pages released")]
    private static partial void MemoryReleased(ILogger logger, long kibibytes);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "cluster lease released")]
    private static partial void LeaseReleased(ILogger logger);
}

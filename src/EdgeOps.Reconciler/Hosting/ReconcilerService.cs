using EdgeOps.Reconciler.Kube;
using EdgeOps.Reconciler.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeOps.Reconciler.Hosting;

/// <summary>
/// The reconciler as a daemon: a pass, then a wait of the interval with ±10% jitter (so a fleet
/// does not poll in step), or after a failure an exponential backoff from 10 s up to the interval.
/// Stopping (SIGTERM) cancels the wait; a pass in flight is cancelled between steps, and its journal
/// makes the next start finish or undo it.
/// </summary>
public sealed partial class ReconcilerService(
    ReconcilerOptions options,
    KubeApi api,
    ReconcilerMetrics metrics,
    TimeSpan interval,
    ILogger<ReconcilerService> logger) : BackgroundService
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reconciler = new Pipeline.Reconciler(options, api);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            PassResult? result = null;
            try
            {
                result = await reconciler.RunOnceAsync(stoppingToken).ConfigureAwait(false);
                metrics.Record(result);
                failures = result.Succeeded ? 0 : failures + 1;
                PassFinished(logger, result.Outcome, result.AppliedRevision ?? "-", result.AttemptedRevision ?? "-", result.Report.DurationSeconds, result.Message);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is KubeUnavailableException or IOException or InvalidDataException or LibGit2Sharp.LibGit2SharpException)
            {
                failures++;
                metrics.RecordFailure();
                PassError(logger, ex.Message);
            }

            var delay = failures == 0 ? Jitter(interval) : Backoff(failures);
            NextPass(logger, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, options.Clock, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
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

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "pass failed: {Reason}")]
    private static partial void PassError(ILogger logger, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "next pass in {Seconds:0}s")]
    private static partial void NextPass(ILogger logger, double seconds);
}

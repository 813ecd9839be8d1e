using Cronos;

namespace EdgeOps.Fleet.Model;

/// <summary>Whether a maintenance window is open at a moment, and when it next opens or closes.</summary>
public readonly record struct WindowState(bool Open, DateTimeOffset? OpensAt, DateTimeOffset? ClosesAt);

/// <summary>
/// A cluster's maintenance window (cron + duration in an IANA zone) evaluated against a clock: a pure function,
/// DST-correct because occurrences are computed in the zone (a 02:30 schedule on the night clocks skip that hour
/// opens when the zone's day reaches 03:00; on the night they repeat it, it opens once).
/// </summary>
public static class MaintenanceWindows
{
    public static WindowState Evaluate(MaintenanceWindow window, DateTimeOffset now)
    {
        var expression = Parse(window.Schedule.Value);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(window.TimeZone.Value);
        var utc = now.UtcDateTime;

        // An occurrence in (now - duration, now] means the window is open now; the latest one closes last.
        var opened = expression.GetOccurrences(utc - window.Duration, utc, zone, fromInclusive: false, toInclusive: true).LastOrDefault();
        if (opened != default)
        {
            return new WindowState(true, new DateTimeOffset(opened, TimeSpan.Zero), new DateTimeOffset(opened + window.Duration, TimeSpan.Zero));
        }

        var next = expression.GetNextOccurrence(utc, zone);
        return next is { } at
            ? new WindowState(false, new DateTimeOffset(at, TimeSpan.Zero), new DateTimeOffset(at + window.Duration, TimeSpan.Zero))
            : new WindowState(false, null, null);
    }

    private static CronExpression Parse(string expression) =>
        CronExpression.Parse(expression, expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
}

using System.Globalization;
using Jint.Runtime;

namespace EdgeOps.Policy.Sandbox;

/// <summary>The clock policies see: stopped at the run's "now", in UTC, so results never depend on when they run.</summary>
internal sealed class FixedTimeSystem(DateTimeOffset now) : ITimeSystem
{
    private readonly DefaultTimeSystem _inner = new(TimeZoneInfo.Utc, CultureInfo.InvariantCulture);

    public TimeZoneInfo DefaultTimeZone => TimeZoneInfo.Utc;

    public DateTimeOffset GetUtcNow() => now;

    public bool TryParse(string date, out long epochMilliseconds) => _inner.TryParse(date, out epochMilliseconds);

    public TimeSpan GetUtcOffset(long epochMilliseconds) => TimeSpan.Zero;
}

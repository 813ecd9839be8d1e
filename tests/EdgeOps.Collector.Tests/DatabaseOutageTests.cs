using EdgeOps.Tests;
using Microsoft.Extensions.Logging;

namespace EdgeOps.Collector.Tests;

public sealed class DatabaseOutageTests
{
    [Fact]
    public void AnOutage_IsOneLine_ThenOneAMinute_CountingTheRequestsBetween()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 30, 4, 0, 0, TimeSpan.Zero));
        var log = new Lines();
        var outage = new DatabaseOutage(log, clock);
        var failure = new Microsoft.Data.Sqlite.SqliteException("database is locked", 5);

        outage.Failed(failure);
        for (var i = 0; i < 500; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            outage.Failed(failure);
        }

        clock.Advance(DatabaseOutage.Quiet);
        outage.Failed(failure);

        Assert.Equal(
        [
            "Warning: database unavailable, answering 503 (1 request(s) since the last such line): database is locked",
            "Warning: database unavailable, answering 503 (501 request(s) since the last such line): database is locked",
        ], log.Written);
    }

    private sealed class Lines : ILogger
    {
        public List<string> Written { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Written.Add($"{logLevel}: {formatter(state, exception)}");
    }
}

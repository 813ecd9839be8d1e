using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace EdgeOps.Collector.Storage;

/// <summary>A cluster's latest accepted report: its sequence, when it arrived, and the signed body.</summary>
public sealed record StoredReport(string Cluster, long Sequence, DateTimeOffset ReceivedAt, string Body);

/// <summary>An operator's (or a wave's failures') halt of one revision's rollout.</summary>
public sealed record Halt(string Revision, string Reason, DateTimeOffset At, string By);

/// <summary>When a wave of a revision's rollout opened and when it passed (both kept once set).</summary>
public sealed record WaveMark(string Revision, int Wave, DateTimeOffset? OpenedAt, DateTimeOffset? PassedAt);

/// <summary>
/// Where the collector keeps the fleet's state: the latest report per cluster, halts and wave marks. SQLite (one
/// file, the embedded default) and PostgreSQL (a bigger fleet, several collector replicas) share one schema, one set
/// of statements and versioned migrations; the dialects differ only in connection and migration locking.
/// </summary>
public sealed class ReportStore : IAsyncDisposable
{
    private readonly DbDataSource _source;
    private readonly bool _postgres;
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);

    private ReportStore(DbDataSource source, bool postgres, string display)
    {
        _source = source;
        _postgres = postgres;
        Display = display;
    }

    /// <summary>The database, with any password left out.</summary>
    public string Display { get; }

    public bool IsPostgres => _postgres;

    /// <summary>Opens <c>sqlite:PATH</c> or <c>postgres://user[:password]@host[:port]/database</c> (also a key=value connection string after <c>postgres:</c>).</summary>
    /// <exception cref="FormatException">Neither form.</exception>
    public static ReportStore Open(string database)
    {
        if (database.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            var path = database["sqlite:".Length..];
            if (path.Length == 0)
            {
                throw new FormatException("--db sqlite:PATH needs a file path");
            }

            var builder = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 };
            return new ReportStore(new SqliteSource(builder.ToString()), postgres: false, "sqlite:" + path);
        }

        // Said without the text itself, which may hold a password.
        if (database.StartsWith("postgres://", StringComparison.Ordinal) || database.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            var url = Uri.TryCreate(database, UriKind.Absolute, out var parsed) && parsed.Host.Length > 0
                ? parsed
                : throw new FormatException("--db postgres://… is not a URL: write postgres://user[:password]@host[:port]/database");
            var (connection, display) = PostgresUrl(url);
            return new ReportStore(new NpgsqlSlimDataSourceBuilder(connection).Build(), postgres: true, display);
        }

        if (database.StartsWith("postgres:", StringComparison.Ordinal))
        {
            NpgsqlConnectionStringBuilder builder;
            try
            {
                builder = new NpgsqlConnectionStringBuilder(database["postgres:".Length..]);
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"--db postgres:KEY=VALUE;… is not a connection string Npgsql takes ({ex.Message})", ex);
            }

            var display = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
            return new ReportStore(new NpgsqlSlimDataSourceBuilder(builder.ConnectionString).Build(), postgres: true, display);
        }

        throw new FormatException($"--db must be sqlite:PATH or postgres://user@host/database; found '{database}'");
    }

    /// <summary>Brings the schema to the newest version; safe when several replicas start at once (PostgreSQL takes an advisory lock).</summary>
    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (_postgres)
        {
            await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(7305871)", cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)", cancellationToken).ConfigureAwait(false);
        var current = 0;
        await using (var command = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        {
            current = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }

        if (current > Migrations.Latest)
        {
            // A newer collector migrated it: this one does not know what the newer tables mean, and writing beside them could undo what they record.
            throw new SchemaTooNewException($"the database is at schema version {current}, newer than this collector knows ({Migrations.Latest}); a newer collector has used it: run that version (or newer)");
        }

        foreach (var migration in Migrations.All.Where(m => m.Version > current))
        {
            foreach (var statement in migration.Statements)
            {
                await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
            }

            await using var record = Command(connection, transaction, "INSERT INTO schema_migrations (version, applied_at) VALUES (@v, @t)", ("v", migration.Version), ("t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            current = migration.Version;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return current;
    }

    /// <summary>
    /// Stores a batch of reports in one transaction; a report whose sequence is not above the stored one for its
    /// cluster (a replay, or an older report arriving late) changes nothing. Returns, per report, whether it was stored.
    /// </summary>
    public async Task<bool[]> UpsertAsync(IReadOnlyList<StoredReport> reports, CancellationToken cancellationToken)
    {
        if (!_postgres)
        {
            await _sqliteWriter.WaitAsync(cancellationToken).ConfigureAwait(false); // one writer: SQLite locks the file
        }

        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var stored = new bool[reports.Count];
            await using var command = Command(connection, transaction, """
                INSERT INTO clusters (name, seq, received_at, body) VALUES (@n, @s, @r, @b)
                ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, received_at = excluded.received_at, body = excluded.body
                WHERE clusters.seq < excluded.seq
                """, ("n", string.Empty), ("s", 0L), ("r", 0L), ("b", string.Empty));
            await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < reports.Count; i++)
            {
                var report = reports[i];
                command.Parameters[0].Value = report.Cluster;
                command.Parameters[1].Value = report.Sequence;
                command.Parameters[2].Value = report.ReceivedAt.ToUnixTimeMilliseconds();
                command.Parameters[3].Value = report.Body;
                stored[i] = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return stored;
        }
        finally
        {
            if (!_postgres)
            {
                _sqliteWriter.Release();
            }
        }
    }

    public async Task<long?> SequenceOfAsync(string cluster, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT seq FROM clusters WHERE name = @n", ("n", cluster));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is { } value and not DBNull
            ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)
            : null;
    }

    public async Task<List<StoredReport>> ReportsAsync(CancellationToken cancellationToken)
    {
        var list = new List<StoredReport>();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT name, seq, received_at, body FROM clusters");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new StoredReport(reader.GetString(0), reader.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetString(3)));
        }

        return list;
    }

    public async Task<List<Halt>> HaltsAsync(CancellationToken cancellationToken)
    {
        var list = new List<Halt>();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT revision, reason, halted_at, halted_by FROM halts");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new Halt(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetString(3)));
        }

        return list;
    }

    /// <summary>Halts a revision's rollout; a revision already halted keeps its first reason.</summary>
    public async Task HaltAsync(Halt halt, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "INSERT INTO halts (revision, reason, halted_at, halted_by) VALUES (@r, @why, @t, @by) ON CONFLICT (revision) DO NOTHING",
            ("r", halt.Revision), ("why", halt.Reason), ("t", halt.At.ToUnixTimeMilliseconds()), ("by", halt.By));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lifts a halt; the waves' failures are counted afresh from now (reports older than the resume do not halt it again).</summary>
    public async Task ResumeAsync(string revision, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var delete = Command(connection, transaction, "DELETE FROM halts WHERE revision = @r", ("r", revision)))
        {
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var resumed = Command(connection, transaction, "INSERT INTO resumes (revision, resumed_at) VALUES (@r, @t) ON CONFLICT (revision) DO UPDATE SET resumed_at = excluded.resumed_at",
            ("r", revision), ("t", at.ToUnixTimeMilliseconds())))
        {
            await resumed.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<DateTimeOffset?> ResumedAtAsync(string revision, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT resumed_at FROM resumes WHERE revision = @r", ("r", revision));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    public async Task<List<WaveMark>> WaveMarksAsync(string revision, CancellationToken cancellationToken)
    {
        var list = new List<WaveMark>();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT wave, opened_at, passed_at FROM waves WHERE revision = @r", ("r", revision));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new WaveMark(revision, reader.GetInt32(0), Time(reader, 1), Time(reader, 2)));
        }

        return list;
    }

    /// <summary>Records that a wave opened and/or passed; a time already recorded is kept (the first replica to see it wins).</summary>
    public async Task MarkWaveAsync(WaveMark mark, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, """
            INSERT INTO waves (revision, wave, opened_at, passed_at) VALUES (@r, @w, @o, @p)
            ON CONFLICT (revision, wave) DO UPDATE SET
              opened_at = COALESCE(waves.opened_at, excluded.opened_at),
              passed_at = COALESCE(waves.passed_at, excluded.passed_at)
            """, ("r", mark.Revision), ("w", mark.Wave), ("o", (object?)mark.OpenedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value), ("p", (object?)mark.PassedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static DateTimeOffset? Time(DbDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(column));

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (!_postgres)
        {
            // WAL: readers never block the writer; NORMAL: durable at each checkpoint, not each commit, which WAL makes safe.
            await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000", cancellationToken).ConfigureAwait(false);
        }

        return connection;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static (string Connection, string Display) PostgresUrl(Uri url)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host,
            Port = url.IsDefaultPort || url.Port <= 0 ? 5432 : url.Port,
            Database = url.AbsolutePath.Trim('/'),
        };
        var user = url.UserInfo.Split(':', 2);
        if (user[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(user[0]);
        }

        if (user.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(user[1]);
        }

        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            try
            {
                builder[key] = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            }
            catch (ArgumentException ex)
            {
                // The value is not shown: it may be a password.
                throw new FormatException($"--db postgres://…?{key}=…: '{key}' is not a connection parameter Npgsql takes, or its value is not one it allows (such as sslmode=require, timeout=15)", ex);
            }
        }

        return (builder.ConnectionString, $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}");
    }

    public async ValueTask DisposeAsync()
    {
        await _source.DisposeAsync().ConfigureAwait(false);
        _sqliteWriter.Dispose();
    }

    /// <summary>Microsoft.Data.Sqlite has no DbDataSource of its own: a minimal one over its pooled connections.</summary>
    private sealed class SqliteSource(string connectionString) : DbDataSource
    {
        public override string ConnectionString => connectionString;

        protected override DbConnection CreateDbConnection() => new SqliteConnection(connectionString);
    }
}

/// <summary>The database was migrated by a newer collector than this one.</summary>
public sealed class SchemaTooNewException(string message) : Exception(message);

/// <summary>The schema, version by version. A released migration is never edited: a change is a new version.</summary>
public static class Migrations
{
    public sealed record Migration(int Version, string Description, IReadOnlyList<string> Statements);

    /// <summary>The newest version this build knows.</summary>
    public static int Latest => All[^1].Version;

    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, "latest report per cluster", [
            "CREATE TABLE clusters (name TEXT PRIMARY KEY, seq BIGINT NOT NULL, received_at BIGINT NOT NULL, body TEXT NOT NULL)",
        ]),
        new(2, "rollout halts and wave marks", [
            "CREATE TABLE halts (revision TEXT PRIMARY KEY, reason TEXT NOT NULL, halted_at BIGINT NOT NULL, halted_by TEXT NOT NULL)",
            "CREATE TABLE waves (revision TEXT NOT NULL, wave INTEGER NOT NULL, opened_at BIGINT, passed_at BIGINT, PRIMARY KEY (revision, wave))",
        ]),
        new(3, "resumed rollouts", [
            "CREATE TABLE resumes (revision TEXT PRIMARY KEY, resumed_at BIGINT NOT NULL)",
        ]),
    ];
}

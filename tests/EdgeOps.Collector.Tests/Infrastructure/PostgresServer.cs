namespace EdgeOps.Collector.Tests.Infrastructure;

/// <summary>One private PostgreSQL server for the whole test run (the collector tests that use PostgreSQL share it).</summary>
#pragma warning disable CA1001 // disposed by xunit through IAsyncLifetime.DisposeAsync
public sealed class PostgresServer : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly PrivatePostgres _server = new();

    public Task InitializeAsync() => _server.StartAsync();

    public Task<string> NewDatabaseAsync() => _server.NewDatabaseAsync();

    /// <summary>A connection string to <paramref name="database"/> as the server's superuser (for a test that acts as the DBA).</summary>
    public string ConnectionString(string database) => _server.ConnectionString(database);

    public async Task DisposeAsync() => await _server.DisposeAsync();
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>One API server for every test in the "kube" collection.</summary>
public sealed class KubeServerFixture : IAsyncLifetime
{
    public KubeServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await KubeServer.StartAsync().ConfigureAwait(false);

    public async Task DisposeAsync() => await Server.DisposeAsync().ConfigureAwait(false);
}

[CollectionDefinition("kube")]
public sealed class KubeCollection : ICollectionFixture<KubeServerFixture>;

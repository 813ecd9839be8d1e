using System.Net;
using EdgeOps.Reconciler.Status;

namespace EdgeOps.Collector.Tests;

/// <summary>The agent's and the operator's client, against answers no collector gives.</summary>
public sealed class CollectorClientTests
{
    [Fact]
    public async Task ARunawayAnswer_IsCutOffAtTheLimit_NotBufferedWhole()
    {
        // A proxy in front of the collector that streams without end (or a wrong upstream serving a disk image).
        using var handler = new Answering(() => new EndlessContent());
        using var client = new CollectorClient(new Uri("http://collector.invalid/"), handler, TimeSpan.FromSeconds(60));
        var before = GC.GetAllocatedBytesForCurrentThread();

        var ex = await Assert.ThrowsAsync<CollectorUnavailableException>(() => client.GetClustersAsync(null, CancellationToken.None));

        Assert.Contains("http://collector.invalid/", ex.Message, StringComparison.Ordinal);
        Assert.True(handler.Sent >= CollectorClient.MaxResponseBytes && handler.Sent < 2L * CollectorClient.MaxResponseBytes, $"read {handler.Sent} bytes");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4L * CollectorClient.MaxResponseBytes);
    }

    private sealed class Answering(Func<HttpContent> content) : HttpMessageHandler
    {
        public long Sent => _content?.Sent ?? 0;

        private EndlessContent? _content;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = content();
            _content = body as EndlessContent;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = body });
        }
    }

    private sealed class EndlessContent : HttpContent
    {
        public long Sent { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)' ');
            while (true)
            {
                await stream.WriteAsync(chunk);
                Sent += chunk.Length;
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

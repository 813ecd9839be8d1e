using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>
/// Git's smart HTTP protocol on loopback: a small CGI bridge from an HttpListener to the real
/// <c>git http-backend</c>. Optionally demands HTTP basic credentials, and counts the bytes that cross it.
/// </summary>
public sealed class GitHttpBackend : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _root;
    private readonly string? _credentials;
    private long _sent;
    private long _received;

    public GitHttpBackend(string root, string? userColonPassword = null)
    {
        _root = root;
        _credentials = userColonPassword;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Uri = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Uri.ToString());
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public Uri Uri { get; }

    /// <summary>Bytes sent to clients and received from them (bodies), since start or the last reset.</summary>
    public (long Sent, long Received) Bytes => (Interlocked.Read(ref _sent), Interlocked.Read(ref _received));

    public void ResetCounters()
    {
        Interlocked.Exchange(ref _sent, 0);
        Interlocked.Exchange(ref _received, 0);
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(context));
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            if (_credentials is not null)
            {
                var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(_credentials));
                if (request.Headers["Authorization"] != expected)
                {
                    response.StatusCode = 401;
                    response.AddHeader("WWW-Authenticate", "Basic realm=\"fleet\"");
                    response.Close();
                    return;
                }
            }

            var psi = new ProcessStartInfo("git", "http-backend")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.Environment["GIT_PROJECT_ROOT"] = _root;
            psi.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
            psi.Environment["REQUEST_METHOD"] = request.HttpMethod;
            psi.Environment["PATH_INFO"] = Uri.UnescapeDataString(request.Url!.AbsolutePath);
            psi.Environment["QUERY_STRING"] = request.Url.Query.TrimStart('?');
            psi.Environment["REMOTE_ADDR"] = "127.0.0.1";
            psi.Environment["CONTENT_TYPE"] = request.ContentType ?? string.Empty;
            if (request.Headers["Content-Encoding"] is { } encoding)
            {
                psi.Environment["HTTP_CONTENT_ENCODING"] = encoding;
            }

            if (request.Headers["Git-Protocol"] is { } protocol)
            {
                psi.Environment["GIT_PROTOCOL"] = protocol;
            }

            using var body = new MemoryStream();
            await request.InputStream.CopyToAsync(body).ConfigureAwait(false);
            Interlocked.Add(ref _received, body.Length);
            psi.Environment["CONTENT_LENGTH"] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);

            using var process = Process.Start(psi)!;
            var stdout = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
            var errors = process.StandardError.ReadToEndAsync();
            await process.StandardInput.BaseStream.WriteAsync(body.ToArray()).ConfigureAwait(false);
            process.StandardInput.Close();
            await copy.ConfigureAwait(false);
            await errors.ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);

            var output = stdout.ToArray();
            var split = IndexOf(output, "\r\n\r\n"u8, out var separator);
            var headerText = Encoding.ASCII.GetString(output, 0, split);
            response.StatusCode = 200;
            foreach (var line in headerText.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0)
                {
                    continue;
                }

                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
                {
                    response.StatusCode = int.Parse(value.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                }
                else if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    response.ContentType = value;
                }
                else if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    response.AddHeader(name, value);
                }
            }

            var payload = output.AsMemory(split + separator);
            Interlocked.Add(ref _sent, payload.Length);
            response.ContentLength64 = payload.Length;
            await response.OutputStream.WriteAsync(payload).ConfigureAwait(false);
            response.Close();
        }
        catch (Exception ex) when (ex is IOException or HttpListenerException or InvalidOperationException)
        {
            try
            {
                response.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> crlf, out int separatorLength)
    {
        var index = data.AsSpan().IndexOf(crlf);
        if (index >= 0)
        {
            separatorLength = crlf.Length;
            return index;
        }

        index = data.AsSpan().IndexOf("\n\n"u8);
        separatorLength = index >= 0 ? 2 : 0;
        return index >= 0 ? index : data.Length;
    }

    public void Dispose()
    {
        _listener.Stop();
        try
        {
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // After Stop, the managed listener's Close binds the port again to remove its prefix, and fails when another
            // test has taken the port meanwhile; nothing is left to release.
        }
    }
}

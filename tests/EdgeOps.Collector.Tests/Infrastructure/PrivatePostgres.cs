using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace EdgeOps.Collector.Tests.Infrastructure;

/// <summary>
/// A private PostgreSQL server from Debian's postgresql package, on loopback with its own data folder (initdb,
/// postgres), stopped and removed at the end. As root it runs as the postgres user, which PostgreSQL requires.
/// Each user gets a database of its own. Shared by the tests (once per run) and the benchmarks.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private Process? _process;
    private string _root = string.Empty;
    private int _databases;

    public int Port { get; private set; }

    public async Task StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "postgres"))).OrderDescending().FirstOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("PostgreSQL is not installed: scripts/build-deps.sh installs Debian's postgresql package");
        }

        _root = Directory.CreateTempSubdirectory("edgeops-pg-").FullName;
        var root = Environment.UserName == "root";
        if (root)
        {
            Run("chown", "-R", "postgres:postgres", _root);
        }

        var data = Path.Combine(_root, "data");
        Run(root, Path.Combine(bin, "initdb"), "-D", data, "-U", "edgeops", "--auth=trust", "-E", "UTF8", "--no-sync");
        Port = FreePort();
        var start = Start(root, Path.Combine(bin, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", _root);
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        _process = Process.Start(start)!;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
                await connection.OpenAsync();
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=edgeops;Database={database};Pooling=true";

    /// <summary>A fresh database; returns its postgres:// URL.</summary>
    public async Task<string> NewDatabaseAsync()
    {
        var name = $"collector_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..6]}";
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return $"postgres://edgeops@127.0.0.1:{Port}/{name}";
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        NpgsqlConnection.ClearAllPools();
        if (_root.Length > 0)
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static ProcessStartInfo Start(bool asPostgres, string file, params string[] args)
    {
        var start = asPostgres ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. args]) : new ProcessStartInfo(file, args);
        return start;
    }

    private static void Run(bool asPostgres, string file, params string[] args) => Run(Start(asPostgres, file, args));

    private static void Run(string file, params string[] args) => Run(new ProcessStartInfo(file, args));

    private static void Run(ProcessStartInfo start)
    {
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{start.FileName} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {error}{output.Result}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

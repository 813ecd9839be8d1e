using System.Collections.Immutable;
using Tmds.DBus.Protocol;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>
/// The RAUC service (<c>de.pengutronix.rauc.Installer</c>) over the host's system D-Bus: bundles are installed
/// with <c>InstallBundle</c> (RAUC checks their signature against its keyring and their <c>compatible</c>
/// against the device, and writes the slot of the class the bundle names that is not booted), slots are
/// switched with <c>Mark</c> (active / good / bad) and read with <c>GetSlotStatus</c> (each slot's
/// <c>bundle.version</c> is the version it runs). A reboot is asked of systemd-logind on the same bus
/// (<c>org.freedesktop.login1.Manager.Reboot</c>) unless a reboot command is configured.
/// </summary>
public sealed class RaucSlotBackend(string? address = null, IReadOnlyList<string>? rebootCommand = null) : ISlotBackend, IAsyncDisposable
{
    private const string Service = "de.pengutronix.rauc";
    private const string Installer = "de.pengutronix.rauc.Installer";
    private readonly SemaphoreSlim _connect = new(1, 1);
    private DBusConnection? _connection;

    public string Name => "rauc";

    /// <summary>How long an installation may take before the agent gives up on it (RAUC keeps going; a restart installs again).</summary>
    public TimeSpan InstallTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    public async Task<SlotReport> StatusAsync(CancellationToken cancellationToken)
    {
        var slots = await CallAsync("status", Idempotent, c => c.CallMethodAsync(Call(c, "GetSlotStatus", null, static (ref MessageWriter _) => { }), static (Message m, object? _) =>
        {
            var reader = m.GetBodyReader();
            var list = new List<(string Name, Dictionary<string, VariantValue> Values)>();
            var end = reader.ReadArrayStart(DBusType.Struct);
            while (reader.HasNext(end))
            {
                reader.AlignStruct();
                var name = reader.ReadString();
                list.Add((name, reader.ReadDictionaryOfStringToVariantValue()));
            }

            return list;
        }), cancellationToken).ConfigureAwait(false);
        var primary = await CallAsync("status", Idempotent, c => c.CallMethodAsync(Call(c, "GetPrimary", null, static (ref MessageWriter _) => { }),
            static (Message m, object? _) => m.GetBodyReader().ReadString()), cancellationToken).ConfigureAwait(false);

        var bootable = slots.Where(s => s.Values.ContainsKey("bootname")).ToList();
        var booted = bootable.FirstOrDefault(s => Text(s.Values, "state") == "booted").Name
            ?? throw new UpgradeStepException("status", "RAUC reports no booted slot (is the service told which slot booted?)", permanent: false);
        return new SlotReport(booted, primary, [.. bootable.Select(s => new SlotInfo(s.Name, Text(s.Values, "bundle.version"), Text(s.Values, "boot-status")))]);
    }

    public async Task<string> InstallAsync(string artifact, CancellationToken cancellationToken)
    {
        await WaitIdleAsync(cancellationToken).ConfigureAwait(false);
        var before = await StatusAsync(cancellationToken).ConfigureAwait(false);
        await CallAsync("install", RefusalIsPermanent, c => c.CallMethodAsync(Call(c, "InstallBundle", "sa{sv}", (ref MessageWriter w) =>
        {
            w.WriteString(artifact);
            w.WriteDictionary(new Dictionary<string, VariantValue>());
        })), cancellationToken).ConfigureAwait(false);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(InstallTimeout);
        try
        {
            await WaitIdleAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UpgradeStepException("install", $"RAUC did not finish installing within {InstallTimeout}", permanent: false);
        }

        var error = await PropertyAsync("LastError", cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(error))
        {
            throw new UpgradeStepException("install", $"RAUC refused the bundle: {error}", permanent: true);
        }

        var after = await StatusAsync(cancellationToken).ConfigureAwait(false);
        return after.Primary is { } primary && primary != after.Booted
            ? primary
            : after.Slots.FirstOrDefault(s => s.Name != before.Booted)?.Name
              ?? throw new UpgradeStepException("install", "RAUC installed, but no slot besides the booted one exists", permanent: true);
    }

    public Task ActivateAsync(string slot, CancellationToken cancellationToken) => MarkAsync("active", slot, cancellationToken);

    public Task MarkGoodAsync(string slot, CancellationToken cancellationToken) => MarkAsync("good", slot, cancellationToken);

    public Task MarkBadAsync(string slot, CancellationToken cancellationToken) => MarkAsync("bad", slot, cancellationToken);

    public async Task RequestRebootAsync(CancellationToken cancellationToken)
    {
        if (rebootCommand is { Count: > 0 })
        {
            var result = await HostCommand.RunAsync(rebootCommand, TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new UpgradeStepException("reboot", $"{rebootCommand[0]} failed ({result.Reason})", permanent: false);
            }

            return;
        }

        await CallAsync("reboot", Once, c => c.CallMethodAsync(RebootMessage(c)), cancellationToken).ConfigureAwait(false);

        static MessageBuffer RebootMessage(DBusConnection connection)
        {
            using var writer = connection.GetMessageWriter();
            writer.WriteMethodCallHeader("org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "Reboot", "b");
            writer.WriteBool(false);
            return writer.CreateMessage();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _connection?.Dispose();
        _connect.Dispose();
        await Task.CompletedTask.ConfigureAwait(false);
    }

    private Task MarkAsync(string state, string slot, CancellationToken cancellationToken) =>
        CallAsync("mark-" + state, Once, c => c.CallMethodAsync(Call(c, "Mark", "ss", (ref MessageWriter w) =>
        {
            w.WriteString(state);
            w.WriteString(slot);
        })), cancellationToken);

    private async Task WaitIdleAsync(CancellationToken cancellationToken)
    {
        while (await PropertyAsync("Operation", cancellationToken).ConfigureAwait(false) != "idle")
        {
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task<string> PropertyAsync(string name, CancellationToken cancellationToken) =>
        CallAsync("status", Idempotent, c =>
        {
            using var writer = c.GetMessageWriter();
            writer.WriteMethodCallHeader(Service, "/", "org.freedesktop.DBus.Properties", "Get", "ss");
            writer.WriteString(Installer);
            writer.WriteString(name);
            return c.CallMethodAsync(writer.CreateMessage(), static (Message m, object? _) =>
            {
                var value = m.GetBodyReader().ReadVariantValue();
                return value.Type == VariantValueType.String ? value.GetString() : throw new DBusUnexpectedValueException($"a {value.Type}, not a string");
            });
        }, cancellationToken);

    private delegate void BodyWriter(ref MessageWriter writer);

    private static MessageBuffer Call(DBusConnection connection, string member, string? signature, BodyWriter body)
    {
        var writer = connection.GetMessageWriter();
        try
        {
            writer.WriteMethodCallHeader(Service, "/", Installer, member, signature);
            body(ref writer);
            return writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>How a call behaves when RAUC refuses it or the bus connection is lost.</summary>
    private readonly record struct CallKind(bool RetryOnNewConnection, bool RefusalIsPermanent);

    /// <summary>A read: asked again on a new connection when the bus went away under the old one (dbus-daemon restarted).</summary>
    private static readonly CallKind Idempotent = new(RetryOnNewConnection: true, RefusalIsPermanent: false);

    /// <summary>A change that is not sent twice: RAUC may have acted on it before the connection was lost; the step is tried again on the next pass.</summary>
    private static readonly CallKind Once = new(RetryOnNewConnection: false, RefusalIsPermanent: false);

    /// <summary>InstallBundle: RAUC refusing it (signature, compatible) does not change by asking again.</summary>
    private static readonly CallKind RefusalIsPermanent = new(RetryOnNewConnection: false, RefusalIsPermanent: true);

    private async Task CallAsync(string step, CallKind kind, Func<DBusConnection, Task> call, CancellationToken cancellationToken) =>
        await CallAsync(step, kind, async c =>
        {
            await call(c).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// One call to RAUC (or logind) on the cached connection. RAUC's refusals become <see cref="UpgradeStepException"/>
    /// in its words; a lost connection is dropped (the next call connects again) and is a step to try again later,
    /// never an exception that would end the agent; an answer of an unexpected shape is RAUC's fault, said as such.
    /// </summary>
    private async Task<T> CallAsync<T>(string step, CallKind kind, Func<DBusConnection, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await call(connection).ConfigureAwait(false);
            }
            catch (DBusErrorReplyException ex)
            {
                throw new UpgradeStepException(step, $"RAUC {step}: {ex.ErrorMessage} ({ex.ErrorName})", kind.RefusalIsPermanent, ex);
            }
            catch (Exception ex) when (ex is DBusConnectionException or ObjectDisposedException or IOException)
            {
                await DropAsync(connection).ConfigureAwait(false);
                if (!kind.RetryOnNewConnection || attempt > 1)
                {
                    throw new UpgradeStepException(step, $"lost the system D-Bus connection during {step} ({ex.Message}); trying again on the next pass", permanent: false, ex);
                }
            }
            catch (Exception ex) when (ex is DBusReadException or DBusUnexpectedValueException or DBusMessageException or InvalidOperationException or IndexOutOfRangeException)
            {
                throw new UpgradeStepException(step, $"RAUC {step}: its answer is not what the RAUC D-Bus API returns ({ex.Message})", permanent: false, ex);
            }
        }
    }

    private async Task<DBusConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        await _connect.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection is { } existing)
            {
                return existing;
            }

            var target = address ?? DBusAddress.System ?? "unix:path=/run/dbus/system_bus_socket";
            var connection = new DBusConnection(target);
            try
            {
                await connection.ConnectAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DBusConnectFailedException or DBusConnectionException or IOException or System.Net.Sockets.SocketException)
            {
                connection.Dispose();
                throw new UpgradeStepException("connect", $"cannot reach the system D-Bus at {target}: {ex.Message}", permanent: false, ex);
            }

            _connection = connection;
            return connection;
        }
        finally
        {
            _connect.Release();
        }
    }

    /// <summary>Forgets a connection that failed, unless another call already replaced it.</summary>
    private async Task DropAsync(DBusConnection failed)
    {
        await _connect.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (ReferenceEquals(_connection, failed))
            {
                _connection = null;
            }
        }
        finally
        {
            _connect.Release();
        }

        failed.Dispose();
    }

    private static string? Text(Dictionary<string, VariantValue> values, string key) =>
        values.TryGetValue(key, out var value) && value.Type == VariantValueType.String ? value.GetString() : null;
}

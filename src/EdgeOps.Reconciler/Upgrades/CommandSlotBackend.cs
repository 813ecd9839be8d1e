using System.Collections.Immutable;
using System.Text.Json;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>
/// A slot backend that is an operator's executable, called once per operation (docs/upgrades.md has the contract):
/// <code>
/// EXE status                 → stdout: {"booted": "A", "primary": "B", "slots": [{"name": "A", "version": "1.2", "state": "good"}, …]}
/// EXE install ARTIFACT       → writes the inactive slot; stdout may be {"slot": "B"}
/// EXE activate SLOT          → SLOT boots next, on trial
/// EXE mark-good SLOT | mark-bad SLOT
/// EXE reboot                 → asks the host to reboot and returns
/// </code>
/// Exit code 0 is success; 75 (EX_TEMPFAIL) is a failure to retry later; anything else fails the plan, with the last
/// line of stderr as the reason. Each
/// operation has a deadline (install: <see cref="InstallTimeout"/>; the others: <see cref="Timeout"/>).
/// </summary>
public sealed class CommandSlotBackend(string executable) : ISlotBackend
{
    public string Name => "command";

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan InstallTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public async Task<SlotReport> StatusAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync("status", [], Timeout, cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(result.Stdout);
            var root = document.RootElement;
            var booted = root.GetProperty("booted").GetString() ?? throw new JsonException("'booted' is null");
            var primary = root.TryGetProperty("primary", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var slots = ImmutableArray.CreateBuilder<SlotInfo>();
            if (root.TryGetProperty("slots", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var slot in list.EnumerateArray())
                {
                    slots.Add(new SlotInfo(
                        slot.GetProperty("name").GetString() ?? throw new JsonException("a slot's 'name' is null"),
                        slot.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null,
                        slot.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null));
                }
            }

            return new SlotReport(booted, primary, slots.ToImmutable());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new UpgradeStepException("status", $"{executable} status printed no slot report: {ex.Message}", permanent: false, ex);
        }
    }

    /// <summary>
    /// Installs and names the slot written: the one the command reports (<c>{"slot": "B"}</c>), else the slot that is not
    /// booted. Output that is not such a report (a tool's progress lines, a bare number) is no report. A slot that is
    /// named but is not a string, is the booted slot or is not among the slots the command lists fails the plan: the
    /// agent would otherwise activate and reboot into something it did not install.
    /// </summary>
    public async Task<string> InstallAsync(string artifact, CancellationToken cancellationToken)
    {
        var result = await RunAsync("install", [artifact], InstallTimeout, cancellationToken, permanent: true).ConfigureAwait(false);
        string? named = null;
        try
        {
            using var document = JsonDocument.Parse(result.Stdout);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("slot", out var slot))
            {
                named = slot.ValueKind == JsonValueKind.String && slot.GetString() is { Length: > 0 } name
                    ? name
                    : throw new UpgradeStepException("install", $"{Path.GetFileName(executable)} install reported slot {Shown(slot)}, which is not a slot name", permanent: true);
            }
        }
        catch (JsonException)
        {
            // no report: the inactive slot, asked below
        }

        var status = await StatusAsync(cancellationToken).ConfigureAwait(false);
        if (named is null)
        {
            return status.Slots.FirstOrDefault(s => s.Name != status.Booted)?.Name
                ?? throw new UpgradeStepException("install", $"{executable} status names no slot besides the booted {status.Booted}", permanent: true);
        }

        if (named == status.Booted)
        {
            throw new UpgradeStepException("install", $"{Path.GetFileName(executable)} install reported writing slot {named}, the booted one; it must write the inactive slot", permanent: true);
        }

        if (!status.Slots.IsEmpty && !status.Slots.Any(s => s.Name == named))
        {
            throw new UpgradeStepException("install", $"{Path.GetFileName(executable)} install reported slot {named}, which {Path.GetFileName(executable)} status does not list ({string.Join(", ", status.Slots.Select(s => s.Name))})", permanent: true);
        }

        return named;

        static string Shown(JsonElement value)
        {
            var text = value.GetRawText();
            return text.Length > 40 ? text[..40] + "…" : text;
        }
    }

    public Task ActivateAsync(string slot, CancellationToken cancellationToken) => RunAsync("activate", [slot], Timeout, cancellationToken);

    public Task MarkGoodAsync(string slot, CancellationToken cancellationToken) => RunAsync("mark-good", [slot], Timeout, cancellationToken);

    public Task MarkBadAsync(string slot, CancellationToken cancellationToken) => RunAsync("mark-bad", [slot], Timeout, cancellationToken);

    public Task RequestRebootAsync(CancellationToken cancellationToken) => RunAsync("reboot", [], Timeout, cancellationToken);

    private async Task<CommandResult> RunAsync(string operation, string[] args, TimeSpan timeout, CancellationToken cancellationToken, bool permanent = false)
    {
        var result = await HostCommand.RunAsync([executable, operation, .. args], timeout, cancellationToken).ConfigureAwait(false);
        return result.Succeeded
            ? result
            : throw new UpgradeStepException(operation, $"{Path.GetFileName(executable)} {operation} failed ({result.Reason})", permanent || result.ExitCode != 75);
    }
}

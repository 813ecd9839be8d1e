using System.Collections.Immutable;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>One slot as the backend sees it: its name, the version installed in it (null when unknown) and its boot state.</summary>
public sealed record SlotInfo(string Name, string? Version, string? BootStatus);

/// <summary>The device's A/B state: which slot booted, which the bootloader will boot next, and each slot's version.</summary>
public sealed record SlotReport(string Booted, string? Primary, ImmutableArray<SlotInfo> Slots)
{
    public string? BootedVersion => Slots.FirstOrDefault(s => s.Name == Booted)?.Version;

    public SlotInfo? Find(string? name) => Slots.FirstOrDefault(s => s.Name == name);
}

/// <summary>
/// How the agent installs into and switches between A/B slots. Implementations: <see cref="RaucSlotBackend"/>
/// (the RAUC service over D-Bus) and <see cref="CommandSlotBackend"/> (an operator's executable, for Mender,
/// swupdate, bootc or vendor tools). Every operation either succeeds or throws <see cref="UpgradeStepException"/>.
/// A k3s/MicroShift binary upgrade would be a third backend writing the other of two binary slots and restarting
/// the service instead of the host.
/// </summary>
public interface ISlotBackend
{
    /// <summary>The name a plan's <c>spec.slots.backend</c> uses for it.</summary>
    string Name { get; }

    Task<SlotReport> StatusAsync(CancellationToken cancellationToken);

    /// <summary>Writes the artifact into the inactive slot; returns the slot written. Idempotent: installing again rewrites it.</summary>
    Task<string> InstallAsync(string artifact, CancellationToken cancellationToken);

    /// <summary>Makes <paramref name="slot"/> the bootloader's choice for the next boot, on trial (it falls back by itself if never marked good).</summary>
    Task ActivateAsync(string slot, CancellationToken cancellationToken);

    Task MarkGoodAsync(string slot, CancellationToken cancellationToken);

    Task MarkBadAsync(string slot, CancellationToken cancellationToken);

    /// <summary>Asks the host to reboot. Returns once the request is made; the process may be stopped at any moment after.</summary>
    Task RequestRebootAsync(CancellationToken cancellationToken);
}

using System.Text;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>
/// An A/B device for the <c>command</c> slot backend: a shell script keeping the bootloader's state in files
/// (booted and primary slot, each slot's version and boot state), as a vendor tool would. An "artifact" is a
/// file whose first line is <c>version=X</c>. <see cref="Boot"/> is the bootloader at power-on: it boots the
/// primary slot unless that slot is marked bad. Operations can be made to fail (<see cref="Fail"/>).
/// </summary>
public sealed class SimulatedDevice : IDisposable
{
    public SimulatedDevice(string initialVersion = "2026.10.1")
    {
        Root = Path.Combine(Path.GetTempPath(), "edgeops-device-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
        Write("booted", "A");
        Write("primary", "A");
        Write("version.A", initialVersion);
        Write("state.A", "good");
        Write("state.B", "good");
        Executable = Path.Combine(Root, "slotctl");
        File.WriteAllText(Executable, $$"""
            #!/bin/sh
            d='{{Root}}'
            op="$1"
            if [ -f "$d/fail-$op" ]; then cat "$d/fail-$op" >&2; exit 1; fi
            if [ -f "$d/slow-$op" ]; then sleep "$(cat "$d/slow-$op")"; fi
            echo "$op $2" >> "$d/calls"
            booted=$(cat "$d/booted")
            other=A; [ "$booted" = A ] && other=B
            case "$op" in
              status)
                va=$(cat "$d/version.A" 2>/dev/null); vb=$(cat "$d/version.B" 2>/dev/null)
                printf '{"booted":"%s","primary":"%s","slots":[{"name":"A","version":"%s","state":"%s"},{"name":"B","version":"%s","state":"%s"}]}\n' \
                  "$booted" "$(cat "$d/primary")" "$va" "$(cat "$d/state.A")" "$vb" "$(cat "$d/state.B")" ;;
              install)
                head -c 4096 "$2" | grep -q '^version=' || { echo "not an image for this device: $2" >&2; exit 1; }
                echo bad > "$d/state.$other"
                head -n 1 "$2" | sed 's/^version=//' > "$d/version.$other"
                printf '{"slot":"%s"}\n' "$other" ;;
              activate) echo "$2" > "$d/primary"; echo good > "$d/state.$2" ;;
              mark-good) echo good > "$d/state.$2" ;;
              mark-bad) echo bad > "$d/state.$2"; if [ "$(cat "$d/primary")" = "$2" ]; then [ "$2" = A ] && echo B > "$d/primary" || echo A > "$d/primary"; fi ;;
              reboot) echo requested >> "$d/reboots" ;;
              *) echo "unknown operation $op" >&2; exit 64 ;;
            esac
            """.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string Root { get; }

    public string Executable { get; }

    public string Booted => Read("booted");

    public string Primary => Read("primary");

    public string? VersionOf(string slot) => File.Exists(Path.Combine(Root, "version." + slot)) ? Read("version." + slot) : null;

    public string RunningVersion => VersionOf(Booted)!;

    public string StateOf(string slot) => Read("state." + slot);

    /// <summary>How many reboots the agent asked for since the last <see cref="Boot"/>.</summary>
    public int RebootRequests => File.Exists(Path.Combine(Root, "reboots")) ? File.ReadAllLines(Path.Combine(Root, "reboots")).Length : 0;

    public IReadOnlyList<string> Calls => File.Exists(Path.Combine(Root, "calls")) ? File.ReadAllLines(Path.Combine(Root, "calls")) : [];

    /// <summary>Power-on: the bootloader boots the primary slot, or the other one if the primary is marked bad.</summary>
    public string Boot()
    {
        var primary = Primary;
        var slot = StateOf(primary) == "bad" ? (primary == "A" ? "B" : "A") : primary;
        Write("booted", slot);
        File.Delete(Path.Combine(Root, "reboots"));
        return slot;
    }

    public void Fail(string operation, string message) => Write("fail-" + operation, message);

    /// <summary>Makes <paramref name="operation"/> take this long (an install that is still writing when the agent dies).</summary>
    public void Slow(string operation, double seconds) => Write("slow-" + operation, seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static byte[] Image(string version, int size = 256 * 1024)
    {
        var content = new byte[size];
        Random.Shared.NextBytes(content);
        var header = Encoding.ASCII.GetBytes($"version={version}\n");
        header.CopyTo(content, 0);
        return content;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private string Read(string name) => File.ReadAllText(Path.Combine(Root, name)).Trim();

    private void Write(string name, string value) => File.WriteAllText(Path.Combine(Root, name), value + "\n");
}

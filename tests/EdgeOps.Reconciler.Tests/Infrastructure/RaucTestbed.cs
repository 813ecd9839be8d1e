using System.Diagnostics;
using System.Text;

namespace EdgeOps.Reconciler.Tests.Infrastructure;

/// <summary>
/// A real RAUC 1.8 service on a device made of files: two ext4 images on loop devices as slots
/// <c>rootfs.0</c>/<c>rootfs.1</c> (boot names A/B), the <c>custom</c> bootloader backend as a script keeping
/// its state in files, a private system bus (<c>dbus-daemon</c>), and an openssl CA whose key signs bundles.
/// A "reboot" stops the service and starts it again with the slot the bootloader state picks
/// (<c>--override-boot-slot</c>). Needs root, loop devices and Debian's <c>rauc</c>, <c>rauc-service</c>,
/// <c>squashfs-tools</c> and <c>dbus</c> (scripts/build-deps.sh); when any is missing the tests fail, saying which.
/// </summary>
public sealed class RaucTestbed : IDisposable
{
    public const string Compatible = "edgeops-robot";
    private readonly List<string> _loops = [];
    private Process? _service;
    private int _busPid;

    public RaucTestbed()
    {
        Root = Path.Combine(Path.GetTempPath(), "edgeops-rauc-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path.Combine(Root, "mnt"));
        Directory.CreateDirectory(Path.Combine(Root, "boot"));
        try
        {
            foreach (var tool in new[] { "rauc", "mksquashfs", "mkfs.ext4", "losetup", "dbus-daemon", "openssl" })
            {
                if (Run("sh", "-c", $"command -v {tool}").Code != 0)
                {
                    throw new InvalidOperationException($"the RAUC test bed needs '{tool}' (run scripts/build-deps.sh as root)");
                }
            }

            for (var i = 0; i < 2; i++)
            {
                var image = Path.Combine(Root, $"slot{i}.img");
                Must("truncate", "-s", "64M", image);
                Must("mkfs.ext4", "-q", "-F", image);
                _loops.Add(Must("losetup", "-f", "--show", image).Trim());
            }

            Ca("trusted");
            Ca("stranger");
            File.WriteAllText(Path.Combine(Root, "bootloader.sh"), """
                #!/bin/sh
                # The custom bootloader backend RAUC calls: state in files, as barebox-state would keep it.
                d="$(dirname "$0")/boot"
                case "$1" in
                  get-primary) cat "$d/primary" 2>/dev/null || echo A ;;
                  set-primary) echo "$2" > "$d/primary"; echo good > "$d/state.$2" ;;
                  get-state) cat "$d/state.$2" 2>/dev/null || echo good ;;
                  set-state) echo "$3" > "$d/state.$2" ;;
                  *) exit 1 ;;
                esac
                """.ReplaceLineEndings("\n"));
            File.WriteAllText(Path.Combine(Root, "reboot.sh"), $"#!/bin/sh\necho requested >> {Root}/reboots\n");
            Must("chmod", "+x", Path.Combine(Root, "bootloader.sh"), Path.Combine(Root, "reboot.sh"));
            File.WriteAllText(Path.Combine(Root, "system.conf"), $"""
                [system]
                compatible={Compatible}
                bootloader=custom
                mountprefix={Root}/mnt
                statusfile={Root}/status.raucs

                [handlers]
                bootloader-custom-backend={Root}/bootloader.sh

                [keyring]
                path={Root}/trusted.ca.pem

                [slot.rootfs.0]
                device={_loops[0]}
                type=ext4
                bootname=A

                [slot.rootfs.1]
                device={_loops[1]}
                type=ext4
                bootname=B

                """);
            File.WriteAllText(Path.Combine(Root, "bus.conf"), $"""
                <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
                <busconfig>
                  <type>system</type>
                  <listen>unix:path={Root}/bus.sock</listen>
                  <auth>EXTERNAL</auth>
                  <policy context="default">
                    <allow user="*"/>
                    <allow own="*"/>
                    <allow send_destination="*" eavesdrop="true"/>
                    <allow receive_sender="*"/>
                    <allow eavesdrop="true"/>
                  </policy>
                </busconfig>
                """);
            _busPid = int.Parse(Must("dbus-daemon", $"--config-file={Root}/bus.conf", "--fork", "--print-pid").Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Start("A");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Root { get; }

    public string Address => $"unix:path={Root}/bus.sock";

    /// <summary>The reboot command the agent is given: it records the request; the test decides when the "host" reboots.</summary>
    public IReadOnlyList<string> RebootCommand => [Path.Combine(Root, "reboot.sh")];

    public int RebootRequests => File.Exists(Path.Combine(Root, "reboots")) ? File.ReadAllLines(Path.Combine(Root, "reboots")).Length : 0;

    public string Primary => BootState("primary") ?? "A";

    public string BootedName { get; private set; } = "A";

    public string? BootState(string name) => File.Exists(Path.Combine(Root, "boot", name)) ? File.ReadAllText(Path.Combine(Root, "boot", name)).Trim() : null;

    public string SlotState(string bootname) => BootState("state." + bootname) ?? "good";

    /// <summary>The service's own account of the slots (<c>rauc status --output-format=json</c>).</summary>
    public string Status() => Must("rauc", $"--conf={Root}/system.conf", "status", "--detailed", "--output-format=json");

    /// <summary>A signed plain bundle holding a small ext4 image, for <paramref name="compatible"/>, signed by the trusted CA or a stranger.</summary>
    public byte[] Bundle(string version, string compatible = Compatible, string signer = "trusted")
    {
        var input = Path.Combine(Root, "bundle-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(input);
        var rootfs = Path.Combine(input, "rootfs.ext4");
        Must("truncate", "-s", "4M", rootfs);
        Must("mkfs.ext4", "-q", "-F", "-L", "edgeops-os", rootfs);
        File.WriteAllText(Path.Combine(input, "manifest.raucm"), $"""
            [update]
            compatible={compatible}
            version={version}

            [bundle]
            format=plain

            [image.rootfs]
            filename=rootfs.ext4

            """);
        var output = input + ".raucb";
        Must("rauc", "bundle", $"--cert={Root}/{signer}.signer.pem", $"--key={Root}/{signer}.signer.key", $"--keyring={Root}/{signer}.ca.pem", input, output);
        return File.ReadAllBytes(output);
    }

    /// <summary>A clean reboot: the service stops, and starts again on the slot the bootloader picks (the primary unless it is marked bad).</summary>
    public string Reboot()
    {
        Stop(kill: false);
        return Start(Pick());
    }

    /// <summary>The system bus restarts (dbus-daemon killed and started again at the same address), and RAUC with it; the booted slot stays.</summary>
    public void RestartBus()
    {
        StopBus();
        _busPid = int.Parse(Must("dbus-daemon", $"--config-file={Root}/bus.conf", "--fork", "--print-pid").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Start(BootedName);
    }

    /// <summary>The system bus goes away (dbus-daemon killed), RAUC with it.</summary>
    public void StopBus()
    {
        Stop(kill: true);
        Run("kill", _busPid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Directory.Exists($"/proc/{_busPid}") && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }

        File.Delete(Path.Combine(Root, "bus.sock"));
    }

    /// <summary>Power is cut: the service dies with SIGKILL wherever it was; at power-on the bootloader picks a slot.</summary>
    public string PowerCut(string? bootInto = null)
    {
        Stop(kill: true);
        return Start(bootInto ?? Pick());
    }

    public void Dispose()
    {
        Stop(kill: true);
        if (_busPid > 0)
        {
            Run("kill", _busPid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Run("sh", "-c", $"grep -q ' {Root}/mnt' /proc/mounts && umount -l $(grep ' {Root}/mnt' /proc/mounts | cut -d' ' -f2) || true");
        foreach (var loop in _loops)
        {
            Run("losetup", "-d", loop);
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private string Pick()
    {
        var primary = Primary;
        return SlotState(primary) == "bad" ? (primary == "A" ? "B" : "A") : primary;
    }

    private string Start(string bootname)
    {
        File.Delete(Path.Combine(Root, "reboots"));
        var start = new ProcessStartInfo("rauc") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { $"--conf={Root}/system.conf", "service", $"--override-boot-slot={bootname}" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DBUS_SYSTEM_BUS_ADDRESS"] = Address;
        _service = Process.Start(start)!;
        _service.OutputDataReceived += (_, _) => { };
        _service.ErrorDataReceived += (_, _) => { };
        _service.BeginOutputReadLine();
        _service.BeginErrorReadLine();
        BootedName = bootname;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var probe = Run("rauc", $"--conf={Root}/system.conf", "status", "--output-format=json");
            if (probe.Code == 0)
            {
                return bootname;
            }

            if (_service.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"the RAUC service did not come up: {probe.Error}");
            }

            Thread.Sleep(100);
        }
    }

    private void Stop(bool kill)
    {
        if (_service is null)
        {
            return;
        }

        if (!_service.HasExited)
        {
            if (kill)
            {
                _service.Kill();
            }
            else
            {
                Run("kill", "-TERM", _service.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            _service.WaitForExit(10_000);
        }

        _service.Dispose();
        _service = null;
    }

    private void Ca(string name)
    {
        var ca = Path.Combine(Root, name);
        Must("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".ca.key", "-out", ca + ".ca.pem", "-subj", $"/CN=edgeops {name} CA", "-days", "3650");
        Must("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".signer.key", "-out", ca + ".signer.csr", "-subj", $"/CN=edgeops {name} release");
        Must("openssl", "x509", "-req", "-in", ca + ".signer.csr", "-CA", ca + ".ca.pem", "-CAkey", ca + ".ca.key", "-CAcreateserial", "-out", ca + ".signer.pem", "-days", "3650");
    }

    private string Must(string file, params string[] args)
    {
        var (code, output, error) = Run(file, args);
        return code == 0 ? output : throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({code}): {error}");
    }

    private (int Code, string Output, string Error) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DBUS_SYSTEM_BUS_ADDRESS"] = Address;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = new StringBuilder(process.StandardError.ReadToEnd());
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.ToString());
    }
}

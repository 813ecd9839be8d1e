using EdgeOps.Reconciler.Upgrades;

namespace EdgeOps.Reconciler.Tests.Upgrades;

/// <summary>
/// The command slot backend reads what the operator's executable prints. What install prints decides which slot is
/// activated and rebooted into, so a report that names no usable slot fails the plan in words; output that is not a
/// report at all (a vendor tool's progress) means "the inactive slot". Neither may crash the pass.
/// </summary>
public sealed class CommandSlotBackendTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgeops-slotcmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A slot command whose status reports A booted (slots A and B) and whose install prints <paramref name="installOutput"/>.</summary>
    private CommandSlotBackend Backend(string installOutput)
    {
        var path = Path.Combine(_dir, "slots");
        File.WriteAllText(path, $$"""
            #!/bin/sh
            case "$1" in
              status) echo '{"booted": "A", "primary": "A", "slots": [{"name": "A", "version": "1.0", "state": "good"}, {"name": "B", "version": "0.9", "state": "good"}]}' ;;
              install) printf '%s\n' '{{installOutput.Replace("'", "'\\''", StringComparison.Ordinal)}}' ;;
            esac
            """.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return new CommandSlotBackend(path);
    }

    [Theory]
    [InlineData("{\"slot\": \"B\"}", "B")]
    [InlineData("", "B")]
    [InlineData("writing slot...", "B")]
    [InlineData("100", "B")] // a bare number is valid JSON, and no report
    [InlineData("[\"B\"]", "B")]
    [InlineData("{\"progress\": 100}", "B")]
    public async Task Install_ReportOrNoReport_NamesTheSlotWritten(string output, string slot)
    {
        Assert.Equal(slot, await Backend(output).InstallAsync("/artifact", CancellationToken.None));
    }

    [Theory]
    [InlineData("{\"slot\": 2}", "slots install reported slot 2, which is not a slot name")]
    [InlineData("{\"slot\": \"\"}", "slots install reported slot \"\", which is not a slot name")]
    [InlineData("{\"slot\": null}", "slots install reported slot null, which is not a slot name")]
    [InlineData("{\"slot\": \"A\"}", "slots install reported writing slot A, the booted one; it must write the inactive slot")]
    [InlineData("{\"slot\": \"C\"}", "slots install reported slot C, which slots status does not list (A, B)")]
    public async Task Install_ReportNamingNoUsableSlot_FailsThePlanInWords(string output, string reason)
    {
        var failure = await Assert.ThrowsAsync<UpgradeStepException>(() => Backend(output).InstallAsync("/artifact", CancellationToken.None));

        Assert.Equal(reason, failure.Message);
        Assert.True(failure.Permanent);
    }
}

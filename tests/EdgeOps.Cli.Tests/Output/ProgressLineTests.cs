using EdgeOps.Cli.Output;

namespace EdgeOps.Cli.Tests.Output;

public sealed class ProgressLineTests
{
    [Fact]
    public void Report_BelowTheThreshold_WritesNothing()
    {
        using var writer = new StringWriter();
        using (var progress = new ProgressLine(writer, threshold: 100))
        {
            progress.Report(5, 10);
        }

        Assert.Empty(writer.ToString());
    }

    [Fact]
    public void Report_LargeFleet_OverwritesOneLineAndErasesItWhenDone()
    {
        using var writer = new StringWriter();
        using (var progress = new ProgressLine(writer, threshold: 100))
        {
            progress.Report(1, 500);
            progress.Report(500, 500);
        }

        var text = writer.ToString();
        Assert.StartsWith("\rrendering clusters 1/500 (0%)", text, StringComparison.Ordinal);
        Assert.Contains("\rrendering clusters 500/500 (100%)", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\u001b[2K", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", text, StringComparison.Ordinal);
    }
}

using System.Diagnostics;

namespace EdgeOps.Collector.Tests.Infrastructure;

/// <summary>Debian's chromium, headless: the DOM of a page after its scripts ran, and a screenshot.</summary>
internal static class HeadlessChromium
{
    private static string Executable =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("chromium is not installed: scripts/build-deps.sh installs Debian's chromium package");

    /// <summary>The serialized DOM once the page's scripts settled (virtual time lets fetches and rendering finish).</summary>
    public static async Task<string> DumpDomAsync(Uri page, string profile)
    {
        var (output, _) = await RunAsync(profile, "--dump-dom", page.AbsoluteUri);
        return output;
    }

    public static async Task ScreenshotAsync(Uri page, string file, string profile) =>
        await RunAsync(profile, $"--screenshot={file}", "--window-size=1280,1400", page.AbsoluteUri);

    private static async Task<(string Output, string Error)> RunAsync(string profile, params string[] args)
    {
        // As root Chromium needs --no-sandbox; a private profile keeps runs apart.
        var start = new ProcessStartInfo(Executable, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--virtual-time-budget=20000", $"--user-data-dir={profile}", .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not finish within 90 s: {await error}");
        }

        Assert.True(process.ExitCode == 0, $"chromium failed ({process.ExitCode}): {await error}");
        return (await output, await error);
    }
}

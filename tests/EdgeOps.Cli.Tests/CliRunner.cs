namespace EdgeOps.Cli.Tests;

internal sealed record CliResult(int ExitCode, string Out, string Error);

/// <summary>Runs the real <c>edgeops</c> entry point in-process with captured output.</summary>
internal static class CliRunner
{
    public static Task<CliResult> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    /// <summary>The same, with <paramref name="stdin"/> as standard input (what '-' reads).</summary>
    public static async Task<CliResult> RunWithInputAsync(string? stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var input = new StringReader(stdin ?? string.Empty);
        var code = await EdgeOpsCli.RunAsync(args, stdout, stderr, input, CancellationToken.None);
        return new CliResult(code, stdout.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), stderr.ToString());
    }
}

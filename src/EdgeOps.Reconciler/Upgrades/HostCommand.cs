using System.Diagnostics;

namespace EdgeOps.Reconciler.Upgrades;

/// <summary>
/// What a command printed and how it ended; <see cref="TimedOut"/> when it was killed at its deadline,
/// <see cref="TooLong"/> when it was killed for printing more than <see cref="HostCommand.MaxOutputChars"/>.
/// </summary>
/// <param name="StartError">Why the program could not be started at all (then <see cref="ExitCode"/> is 127).</param>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr, bool TimedOut, bool TooLong = false, string? StartError = null)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut && !TooLong;

    /// <summary>The last line the command wrote to stderr (or stdout), for a one-line reason.</summary>
    public string Reason => TimedOut
        ? "timed out"
        : TooLong
            ? $"printed more than {HostCommand.MaxOutputChars / 1024} KiB"
            : (LastLine(Stderr) ?? LastLine(Stdout)) is { } line ? $"exit code {ExitCode}: {line}" : $"exit code {ExitCode}";

    private static string? LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
}

/// <summary>
/// Runs a host command (argv, no shell) with a deadline; the whole process tree is killed when it passes. What it
/// prints is bounded (a command that prints without end is killed, not buffered until the robot runs out of
/// memory), and the command is done when it exits: a background process it started that still holds its output
/// (<c>(sleep 5; reboot) &amp;</c>, a daemon) is not waited for beyond <see cref="OutputGrace"/>.
/// </summary>
public static class HostCommand
{
    /// <summary>Characters kept of each of stdout and stderr.</summary>
    public const int MaxOutputChars = 1024 * 1024;

    /// <summary>How long output is still read after the command exited, for what is left in the pipe.</summary>
    public static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(2);

    /// <param name="environment">Variables set for the command on top of the agent's own.</param>
    public static async Task<CommandResult> RunAsync(IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken cancellationToken, IEnumerable<KeyValuePair<string, string>>? environment = null)
    {
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in argv.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new CommandResult(127, string.Empty, $"cannot run {argv[0]}: {ex.Message}", TimedOut: false, StartError: ex.Message);
        }

        using (process)
        {
            process.StandardInput.Close();
            using var stopReading = new CancellationTokenSource();
            using var overflow = new CancellationTokenSource();
            var stdout = new Output(process.StandardOutput, overflow);
            var stderr = new Output(process.StandardError, overflow);
            var reading = Task.WhenAll(stdout.ReadAsync(stopReading.Token), stderr.ReadAsync(stopReading.Token));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, overflow.Token);
            deadline.CancelAfter(timeout);
            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                timedOut = !overflow.IsCancellationRequested;
            }

            stopReading.CancelAfter(OutputGrace);
            await reading.ConfigureAwait(false);
            return new CommandResult(process.ExitCode, stdout.Text, stderr.Text, timedOut, TooLong: overflow.IsCancellationRequested);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
    }

    /// <summary>One output stream, read into a bounded buffer until it ends or reading is stopped.</summary>
    private sealed class Output(StreamReader reader, CancellationTokenSource overflow)
    {
        private readonly System.Text.StringBuilder _text = new();

        public string Text => _text.ToString();

        public async Task ReadAsync(CancellationToken stop)
        {
            var buffer = new char[8192];
            try
            {
                int read;
                while ((read = await reader.ReadAsync(buffer.AsMemory(), stop).ConfigureAwait(false)) > 0)
                {
                    if (_text.Length + read > MaxOutputChars)
                    {
                        _text.Append(buffer, 0, MaxOutputChars - _text.Length);
                        await overflow.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    _text.Append(buffer, 0, read);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // stopped after the grace, or the pipe went away: keep what was read
            }
        }
    }
}

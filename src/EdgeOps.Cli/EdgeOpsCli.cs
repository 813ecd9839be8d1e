using System.CommandLine;
using EdgeOps.Cli.Commands;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Validation;

namespace EdgeOps.Cli;

/// <summary>
/// The <c>edgeops</c> command line. <see cref="RunAsync"/> is the real entry point, used by
/// <c>Main</c> and by the tests with captured writers. Usage errors and unreadable inputs exit 2
/// with a one-line message; no stack trace reaches the user for any expected failure.
/// </summary>
public static class EdgeOpsCli
{
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, stdout, stderr, null, cancellationToken);

    /// <param name="stdin">What '-' reads (null: the console's standard input).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin, CancellationToken cancellationToken)
    {
        var isConsole = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        var context = new CliContext(stdout, stderr, isConsole) { In = stdin };
        var root = new RootCommand("EdgeOps: GitOps and policy for edge Kubernetes fleets")
        {
            ValidateCommand.Create(context),
            RenderCommand.Create(context),
            ClustersCommand.Create(context),
            DiffCommand.Create(context),
            CheckCommand.Create(context),
            TestCommand.Create(context),
            ReconcileCommand.Create(context),
            StatusCommand.Create(context),
            InstallCommand.Create(context),
            VerifyBundleCommand.Create(context),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"edgeops: {error.Message}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("Run 'edgeops --help' for usage.").ConfigureAwait(false);
            return ExitCodes.UsageOrIo;
        }

        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler? onCancel = null;
        if (isConsole)
        {
            onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancellation.Cancel();
            };
            Console.CancelKeyPress += onCancel;
        }

        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return await parse.InvokeAsync(configuration, cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("edgeops: interrupted").ConfigureAwait(false);
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (ex is FleetSourceException or UnknownClusterException or IOException or UnauthorizedAccessException or InvalidDataException or Reconciler.Pipeline.ReconcilerException or Reconciler.Kube.KubeUnavailableException)
        {
            await stderr.WriteLineAsync($"edgeops: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrIo;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug, not bad input: say so plainly; the stack trace only on request.
            await stderr.WriteLineAsync($"edgeops: internal error: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            if (Environment.GetEnvironmentVariable("EDGEOPS_DEBUG") is { Length: > 0 })
            {
                await stderr.WriteLineAsync(ex.ToString()).ConfigureAwait(false);
            }

            return ExitCodes.InternalError;
        }
        finally
        {
            if (onCancel is not null)
            {
                Console.CancelKeyPress -= onCancel;
            }
        }
    }
}

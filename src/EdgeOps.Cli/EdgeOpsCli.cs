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
    /// <summary>The first "--name" token that is not an option of the command it was given to.</summary>
    private static string? UnknownOption(string[] args, ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var known = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Concat(["--help", "-h", "-?", "--version"]).ToHashSet(StringComparer.Ordinal);
        foreach (var arg in args.TakeWhile(a => a != "--"))
        {
            var name = arg.Split('=', 2)[0];
            if (name.StartsWith("--", StringComparison.Ordinal) && name.Length > 2 && !known.Contains(name))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>The command as typed after the program's name ("validate", "rollout status"); "edgeops" itself at the top.</summary>
    private static string CommandName(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is { Command: not RootCommand }; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command.Name);
        }

        return names.Count == 0 ? "edgeops" : string.Join(' ', names);
    }

    /// <summary>Where to read about the command, as typed: "Run 'edgeops rollout status --help' for usage."</summary>
    private static string UsageHint(ParseResult parse) =>
        parse.CommandResult.Command is RootCommand ? "Run 'edgeops --help' for usage." : $"Run 'edgeops {CommandName(parse)} --help' for usage.";

    /// <summary>
    /// A first argument that names no command. One line says so (with the nearest command), instead of the
    /// parser's three: the unknown token, a missing command, and every later argument as unrecognized.
    /// </summary>
    private static string? UnknownCommand(string[] args, RootCommand root)
    {
        if (args.Length == 0 || args[0].StartsWith('-') || root.Subcommands.Any(c => c.Name == args[0] || c.Aliases.Contains(args[0])))
        {
            return null;
        }

        if (args[0] == "collector")
        {
            // Built without it (the NativeAOT agent): the collector is the fleet's central service, not an edge one.
            return "the collector is not in this build of edgeops, the NativeAOT agent; run it from the framework-dependent build or the tool package (dotnet tool install --global edgeops)";
        }

        return $"unknown command '{args[0]}'{Fleet.Loading.Suggestions.DidYouMean(args[0], root.Subcommands.Select(c => c.Name))}";
    }

    /// <summary>
    /// An option given an empty value (<c>--state-dir ""</c>, or a script's unset variable) is a usage error
    /// naming the option, rather than a path, name or revision "" that fails somewhere deeper.
    /// </summary>
    private static void RefuseEmptyValues(Command command, HashSet<Option> seen)
    {
        foreach (var option in command.Options.Where(o => o.ValueType == typeof(string) || o.ValueType == typeof(string[])))
        {
            if (seen.Add(option))
            {
                option.Validators.Add(result =>
                {
                    if (result.Tokens.Any(t => t.Value.Length == 0))
                    {
                        result.AddError($"{result.IdentifierToken?.Value ?? option.Name} needs a value; it was given an empty one");
                    }
                });
            }
        }

        foreach (var subcommand in command.Subcommands)
        {
            RefuseEmptyValues(subcommand, seen);
        }
    }

    /// <summary>For an unknown command or option, the nearest one the command line knows at that point.</summary>
    private static string DidYouMean(string message, ParseResult parse)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, "^Unrecognized command or argument '(.+)'");
        if (!match.Success)
        {
            return string.Empty;
        }

        var token = match.Groups[1].Value;
        var command = parse.CommandResult.Command;
        IEnumerable<string> candidates = token.StartsWith('-')
            ? command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            : command.Subcommands.Select(c => c.Name);
        return Fleet.Loading.Suggestions.DidYouMean(token, candidates);
    }

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
            RolloutCommand.Create(context),
#if EDGEOPS_COLLECTOR
            CollectorCommand.Create(context),
#endif
        };
        root.Add(CompletionCommand.Create(context, () => root));
        RefuseEmptyValues(root, []);

        // 'edgeops' alone prints the help, as kubectl and flux do.
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (UnknownCommand(args, root) is { } wrongCommand)
        {
            await stderr.WriteLineAsync($"edgeops: {wrongCommand}").ConfigureAwait(false);
            await stderr.WriteLineAsync("Run 'edgeops --help' for usage.").ConfigureAwait(false);
            return ExitCodes.UsageOrIo;
        }

        if (UnknownOption(args, parse) is { } unknown)
        {
            // An option the command does not have would otherwise be taken for a path or a value.
            await stderr.WriteLineAsync($"edgeops: unknown option '{unknown}' for '{CommandName(parse)}'{DidYouMean($"Unrecognized command or argument '{unknown}'", parse)}").ConfigureAwait(false);
            await stderr.WriteLineAsync(UsageHint(parse)).ConfigureAwait(false);
            return ExitCodes.UsageOrIo;
        }

        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"edgeops: {error.Message}{DidYouMean(error.Message, parse)}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync(UsageHint(parse)).ConfigureAwait(false);
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
            var code = await parse.InvokeAsync(configuration, cancellation.Token).ConfigureAwait(false);
            if (args.Length == 0 || args.Any(a => a is "--help" or "-h" or "-?"))
            {
                await stdout.WriteAsync(CommandHelp.Epilogue(parse.CommandResult.Command is RootCommand ? "edgeops" : parse.CommandResult.Command.Name)).ConfigureAwait(false);
            }

            return code;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("edgeops: interrupted").ConfigureAwait(false);
            return ExitCodes.Cancelled;
        }
        catch (Reconciler.Kube.KubeConfigException ex)
        {
            // Located in a kubeconfig file: the diagnostic line as it is (path:line:col: error EO…).
            await stderr.WriteLineAsync(ex.Diagnostic is null ? $"edgeops: cannot use the Kubernetes configuration: {ex.Message}" : ex.Message).ConfigureAwait(false);
            return ExitCodes.UsageOrIo;
        }
        catch (Exception ex) when (ex is FleetSourceException or UnknownClusterException or IOException or UnauthorizedAccessException or InvalidDataException or Reconciler.Pipeline.ReconcilerException or Reconciler.Kube.KubeUnavailableException
            or Reconciler.Status.CollectorUnavailableException or Reconciler.Status.CollectorRejectedException)
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

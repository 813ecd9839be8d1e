using EdgeOps.Cli;

return await EdgeOpsCli.RunAsync(args, Console.Out, Console.Error, CancellationToken.None).ConfigureAwait(false);

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeOps.Fleet.Sources;
using EdgeOps.Reconciler.Status;

namespace EdgeOps.Cli.Commands;

/// <summary>
/// <c>edgeops rollout status|halt|resume REVISION --collector URL</c>: the operator's view of one revision's rollout
/// wave by wave, and the brake. A halted rollout opens no further wave, and clusters that applied the revision roll
/// back to their previous one on their next pass.
/// </summary>
internal static class RolloutCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("rollout", "Show, halt or resume the rollout of a revision (from the fleet's collector)");
        foreach (var verb in new[] { "status", "halt", "resume" })
        {
            var revision = new Argument<string>("revision") { Description = "The commit (full SHA), or 'current' for the fleet's head" };
            var collector = CollectorOption();
            var output = OutputOption();
            var reason = new Option<string?>("--reason") { Description = "Why (shown in status and to the agents)" };
            var token = new Option<string?>("--token-file") { Description = "A file holding the collector's admin bearer token (halt and resume from another host)" };
            var sub = new Command(verb, verb switch
            {
                "status" => "The rollout of a revision, wave by wave: clusters applied, healthy, failed, waiting; gate state",
                "halt" => "Halt a revision's rollout: no further wave opens; clusters that applied it roll back",
                _ => "Resume a halted rollout: its gates are computed afresh",
            }) { revision, collector, output };
            if (verb != "status")
            {
                sub.Add(token);
            }

            if (verb == "halt")
            {
                sub.Add(reason);
            }

            sub.SetAction(async (parse, cancellationToken) =>
            {
                using var client = Client(parse.GetValue(collector)!, parse.GetValue(token));
                var rev = parse.GetValue(revision)!;
                var status = verb switch
                {
                    "status" => await client.GetRolloutAsync(rev, cancellationToken).ConfigureAwait(false),
                    "halt" => await client.HaltAsync(rev, parse.GetValue(reason), cancellationToken).ConfigureAwait(false),
                    _ => await client.ResumeAsync(rev, cancellationToken).ConfigureAwait(false),
                };
                await WriteAsync(context, status, parse.GetValue(output)!).ConfigureAwait(false);
                return ExitCodes.Ok;
            });
            command.Add(sub);
        }

        return command;
    }

    internal static Option<string> CollectorOption() => new("--collector") { Description = "The collector's URL, e.g. http://collector.fleet:8080", Required = true };

    internal static Option<string> OutputOption()
    {
        var output = new Option<string>("--output", "-o") { Description = "text or json", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        return output;
    }

    internal static CollectorClient Client(string url, string? tokenFile)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new FleetSourceException($"--collector must be an http(s) URL; found '{url}'");
        }

        string? token = null;
        if (tokenFile is not null)
        {
            try
            {
                token = File.ReadAllText(tokenFile).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new FleetSourceException($"--token-file {tokenFile}: {ex.Message}");
            }
        }

        return new CollectorClient(uri, token: token);
    }

    internal static async Task WriteAsync(CliContext context, RolloutStatus status, string output)
    {
        if (output == "json")
        {
            await context.Out.WriteLineAsync(JsonSerializer.Serialize(status, CollectorJson.Default.RolloutStatus)).ConfigureAwait(false);
            return;
        }

        await context.Out.WriteLineAsync($"rollout of {status.Revision}{(status.Halted ? $": HALTED ({status.HaltReason})" : string.Empty)}").ConfigureAwait(false);
        await context.Out.WriteLineAsync(string.Format(CultureInfo.InvariantCulture, "{0,-16} {1,-8} {2,6} {3,8} {4,8} {5,7} {6,8} {7,6}  {8}", "WAVE", "GATE", "TOTAL", "APPLIED", "HEALTHY", "FAILED", "WAITING", "STALE", "MAX FAILURES")).ConfigureAwait(false);
        foreach (var wave in status.Waves)
        {
            await context.Out.WriteLineAsync(string.Format(CultureInfo.InvariantCulture, "{0,-16} {1,-8} {2,6} {3,8} {4,8} {5,7} {6,8} {7,6}  {8}",
                wave.Name, wave.Gate, wave.Total, wave.Applied, wave.Healthy, wave.Failed, wave.Waiting, wave.Stale, wave.MaxFailures ?? "0")).ConfigureAwait(false);
        }
    }
}

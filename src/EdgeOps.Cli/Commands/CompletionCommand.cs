using System.CommandLine;
using System.Text;

namespace EdgeOps.Cli.Commands;

/// <summary>
/// <c>edgeops completion bash|zsh|fish</c>: a shell completion script for the commands and options, made
/// from the command tree itself so it never falls behind. Load it as kubectl's and flux's are:
/// <c>source &lt;(edgeops completion bash)</c>.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create(CliContext context, Func<RootCommand> tree)
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh or fish" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("completion", "Print a shell completion script (source <(edgeops completion bash))") { shell };
        command.SetAction(parse =>
        {
            var root = tree();
            context.Out.Write(parse.GetValue(shell) switch
            {
                "fish" => Fish(root),
                "zsh" => "autoload -U +X bashcompinit && bashcompinit\n" + Bash(root),
                _ => Bash(root),
            });
            return ExitCodes.Ok;
        });
        return command;
    }

    private static IEnumerable<(string Name, IEnumerable<string> Options)> Commands(RootCommand root) =>
        root.Subcommands.OrderBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => (c.Name, (IEnumerable<string>)c.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(a => a.StartsWith("--", StringComparison.Ordinal)).Append("--help").Distinct().Order(StringComparer.Ordinal)));

    internal static string Bash(RootCommand root)
    {
        var text = new StringBuilder();
        text.AppendLine("# edgeops completion for bash: source <(edgeops completion bash)");
        text.AppendLine("_edgeops() {");
        text.AppendLine("  local cur=\"${COMP_WORDS[COMP_CWORD]}\" words=\"\"");
        text.AppendLine("  if [ \"$COMP_CWORD\" -eq 1 ]; then");
        text.AppendLine($"    words=\"{string.Join(' ', Commands(root).Select(c => c.Name))}\"");
        text.AppendLine("  else");
        text.AppendLine("    case \"${COMP_WORDS[1]}\" in");
        foreach (var (name, options) in Commands(root))
        {
            text.AppendLine($"      {name}) words=\"{string.Join(' ', options)}\" ;;");
        }

        text.AppendLine("    esac");
        text.AppendLine("    if [[ \"$cur\" != -* ]]; then COMPREPLY=($(compgen -f -- \"$cur\")); return; fi");
        text.AppendLine("  fi");
        text.AppendLine("  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))");
        text.AppendLine("}");
        text.AppendLine("complete -o default -F _edgeops edgeops");
        return text.ToString();
    }

    internal static string Fish(RootCommand root)
    {
        var text = new StringBuilder();
        text.AppendLine("# edgeops completion for fish: edgeops completion fish | source");
        var names = string.Join(' ', Commands(root).Select(c => c.Name));
        foreach (var command in root.Subcommands.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            text.AppendLine($"complete -c edgeops -f -n 'not __fish_seen_subcommand_from {names}' -a {command.Name} -d {Quote(command.Description ?? string.Empty)}");
            foreach (var option in command.Options)
            {
                var longName = option.Aliases.Prepend(option.Name).FirstOrDefault(a => a.StartsWith("--", StringComparison.Ordinal));
                if (longName is not null)
                {
                    text.AppendLine($"complete -c edgeops -n '__fish_seen_subcommand_from {command.Name}' -l {longName[2..]} -d {Quote(option.Description ?? string.Empty)}");
                }
            }
        }

        return text.ToString();
    }

    private static string Quote(string text) => "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
}

using System.CommandLine;

namespace EdgeOps.Cli.Commands;

/// <summary>Arguments and options several commands share.</summary>
internal static class CommonOptions
{
    public static Argument<string> FleetPath() => new("path")
    {
        Description = "The fleet repo folder (default: the current folder)",
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => ".",
    };

    public static Option<string?> Revision() => new("--rev")
    {
        Description = "Read the fleet from this Git revision (commit, branch, tag; any rev-parse expression) instead of the work tree",
    };

    public static Option<string> Output(params string[] formats)
    {
        var option = new Option<string>("--output", "-o")
        {
            Description = $"Output format: {string.Join(", ", formats)}",
            DefaultValueFactory = _ => formats[0],
        };
        option.AcceptOnlyFromAmong(formats);
        return option;
    }

    /// <summary>How file paths are shown: relative to where the command runs, so they can be opened.</summary>
    public static string PathPrefix(string path)
    {
        var normalized = path.Replace('\\', '/').TrimEnd('/');
        return normalized is "" or "." ? string.Empty : normalized + "/";
    }
}

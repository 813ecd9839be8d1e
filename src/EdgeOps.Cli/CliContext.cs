namespace EdgeOps.Cli;

/// <summary>Where a command writes, and whether a person is watching (for progress displays).</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error, bool ErrorIsTerminal)
{
    /// <summary>Standard input, for commands that read '-' (null: the console's).</summary>
    public TextReader? In { get; init; }
}

namespace EdgeOps.Cli;

/// <summary>Where a command writes, and whether a person is watching (for progress displays).</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error, bool ErrorIsTerminal);

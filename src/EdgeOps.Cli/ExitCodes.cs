namespace EdgeOps.Cli;

/// <summary>The exit codes of every edgeops command.</summary>
public static class ExitCodes
{
    /// <summary>Success: the fleet is valid, the command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>The fleet is invalid or a policy denied it; diagnostics say why.</summary>
    public const int Invalid = 1;

    /// <summary>Wrong usage, or a path, repository or revision that cannot be read.</summary>
    public const int UsageOrIo = 2;

    /// <summary>A defect in edgeops itself (EX_SOFTWARE); set EDGEOPS_DEBUG=1 for the stack trace.</summary>
    public const int InternalError = 70;

    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Cancelled = 130;
}

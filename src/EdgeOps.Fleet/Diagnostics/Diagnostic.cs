namespace EdgeOps.Fleet.Diagnostics;

public enum Severity
{
    Error,
    Warning,
    Info,
}

/// <summary>
/// One problem found in a fleet: where, how bad, which code and what to do about it.
/// <see cref="Clusters"/> names the clusters it was found in when it depends on the cluster.
/// </summary>
public sealed record Diagnostic(
    SourceLocation Location,
    Severity Severity,
    string Code,
    string Message)
{
    public IReadOnlyList<string> Clusters { get; init; } = [];

    /// <summary>Further places that explain the problem (the other duplicate, the definition …).</summary>
    public IReadOnlyList<SourceLocation> Related { get; init; } = [];

    /// <summary>For a policy violation, <c>policy/control</c> (or just the policy): the SARIF rule.</summary>
    public string? Rule { get; init; }

    public bool IsError => Severity == Severity.Error;

    public override string ToString()
    {
        var sev = Severity switch
        {
            Severity.Error => "error",
            Severity.Warning => "warning",
            _ => "info",
        };
        return $"{Location}: {sev} {Code}: {Message}";
    }
}

using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Policy.Sandbox;

/// <summary>
/// What one policy call may use. The defaults suit a 2-core edge gateway; a fleet can change them
/// in <c>spec.policies.limits</c> of fleet.yaml.
/// </summary>
public sealed record PolicyLimits
{
    public static readonly PolicyLimits Default = new();

    /// <summary>Statements per call (stops infinite loops deterministically).</summary>
    public int MaxStatements { get; init; } = 1_000_000;

    /// <summary>Wall time per call.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Bytes a call may allocate.</summary>
    public long MaxMemoryBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Call depth; without it unbounded recursion overflows the stack and kills the process.</summary>
    public int MaxRecursionDepth { get; init; } = 200;

    /// <summary>Time one regular expression match may take; the call timeout does not stop a runaway regex.</summary>
    public TimeSpan RegexTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Reads <c>spec.policies.limits</c>, reporting bad values and keeping the default for them.</summary>
    public static PolicyLimits From(MappingNode? limits, DiagnosticBag diagnostics)
    {
        if (limits is null)
        {
            return Default;
        }

        var reader = new FieldReader(limits, "Fleet.spec.policies.limits", diagnostics);
        var result = new PolicyLimits();
        if (reader.Integer("maxStatements", min: 1000, max: 1_000_000_000) is { } statements)
        {
            result = result with { MaxStatements = (int)statements };
        }

        if (reader.Duration("timeout") is { } timeout)
        {
            result = result with { Timeout = timeout };
        }

        if (reader.Quantity("memory") is { } memory)
        {
            result = result with { MaxMemoryBytes = (long)Math.Max(1024 * 1024, memory.Value) };
        }

        if (reader.Integer("recursionDepth", min: 10, max: 2000) is { } depth)
        {
            result = result with { MaxRecursionDepth = (int)depth };
        }

        if (reader.Duration("regexTimeout") is { } regex)
        {
            result = result with { RegexTimeout = regex };
        }

        reader.Finish();
        return result;
    }
}

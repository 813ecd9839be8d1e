using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Fleet.Model;

/// <summary>A value and the place in the fleet repo it was written.</summary>
public sealed record Located<T>(T Value, SourceLocation Location)
{
    public override string ToString() => Value?.ToString() ?? string.Empty;
}

namespace EdgeOps.Fleet.Sources;

/// <summary>The fleet could not be opened at all (no such folder, repository or revision).</summary>
public sealed class FleetSourceException : Exception
{
    public FleetSourceException(string message)
        : base(message)
    {
    }

    public FleetSourceException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public FleetSourceException()
    {
    }
}

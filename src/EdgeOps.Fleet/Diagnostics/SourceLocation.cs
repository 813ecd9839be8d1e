namespace EdgeOps.Fleet.Diagnostics;

/// <summary>
/// A place in a fleet repo file: a repo-relative path (forward slashes) and a 1-based line and column.
/// </summary>
public readonly record struct SourceLocation(string Path, int Line, int Column)
{
    public static readonly SourceLocation None = new(string.Empty, 0, 0);

    public bool IsKnown => !string.IsNullOrEmpty(Path);

    public static SourceLocation FileStart(string path) => new(path, 1, 1);

    public SourceLocation WithColumnOffset(int offset) => this with { Column = Column + offset };

    public override string ToString() => IsKnown
        ? (Line > 0 ? $"{Path}:{Line}:{Column}" : Path)
        : "<unknown>";
}

using System.Collections.Concurrent;

namespace EdgeOps.Fleet.Diagnostics;

/// <summary>
/// Collects diagnostics so that every problem is reported at once. Thread-safe: rendering of
/// clusters in parallel reports into one bag.
/// </summary>
public sealed class DiagnosticBag
{
    private readonly ConcurrentQueue<Diagnostic> _items = new();
    private int _errors;

    public int ErrorCount => Volatile.Read(ref _errors);

    public bool HasErrors => ErrorCount > 0;

    public void Add(Diagnostic diagnostic)
    {
        _items.Enqueue(diagnostic);
        if (diagnostic.IsError)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    public void Error(SourceLocation location, string code, string message) =>
        Add(new Diagnostic(location, Severity.Error, code, message));

    public void Warning(SourceLocation location, string code, string message) =>
        Add(new Diagnostic(location, Severity.Warning, code, message));

    public void AddRange(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var d in diagnostics)
        {
            Add(d);
        }
    }

    /// <summary>The diagnostics as they were added.</summary>
    public IReadOnlyList<Diagnostic> InOrder() => [.. _items];

    /// <summary>
    /// The diagnostics in a stable order (file, line, column, code, message), with diagnostics that
    /// are the same apart from the cluster merged into one that lists every cluster.
    /// </summary>
    public IReadOnlyList<Diagnostic> ToSortedList()
    {
        var merged = new Dictionary<(SourceLocation, Severity, string, string), (Diagnostic First, SortedSet<string> Clusters)>();
        foreach (var d in _items)
        {
            var key = (d.Location, d.Severity, d.Code, d.Message);
            if (!merged.TryGetValue(key, out var entry))
            {
                entry = (d, new SortedSet<string>(StringComparer.Ordinal));
                merged.Add(key, entry);
            }

            entry.Clusters.UnionWith(d.Clusters);
        }

        return merged.Values
            .Select(e => e.First with { Clusters = [.. e.Clusters] })
            .OrderBy(d => d.Location.Path, StringComparer.Ordinal)
            .ThenBy(d => d.Location.Line)
            .ThenBy(d => d.Location.Column)
            .ThenBy(d => d.Code, StringComparer.Ordinal)
            .ThenBy(d => d.Message, StringComparer.Ordinal)
            .ToList();
    }
}

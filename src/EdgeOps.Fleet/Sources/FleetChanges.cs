using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace EdgeOps.Fleet.Sources;

/// <summary>The files that differ between two trees of a fleet: added, removed or with other content.</summary>
public static class FleetChanges
{
    /// <summary>
    /// Splits changed files into those whose content changed and YAML files that changed only in comments or
    /// in layout that moves nothing: both sides parse, without a problem, to the same documents with every
    /// value at the same line and column. Such a change reaches no cluster: not what is rendered, and not
    /// where a problem in it is reported.
    /// </summary>
    public static (IReadOnlySet<string> Changed, IReadOnlyList<string> CommentsOnly) WithoutCommentOnly(
        IReadOnlySet<string> changed, IFleetSource before, IFleetSource after)
    {
        var kept = new SortedSet<string>(StringComparer.Ordinal);
        var commentsOnly = new List<string>();
        foreach (var path in changed)
        {
            if (IsYaml(path) && Parse(before, path) is { } old && Parse(after, path) is { } now && SameDocuments(old, now))
            {
                commentsOnly.Add(path);
            }
            else
            {
                kept.Add(path);
            }
        }

        return (kept, commentsOnly);
    }

    private static bool IsYaml(string path) =>
        path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    /// <summary>A regular file's documents, or null when it is not one on this side or does not read cleanly.</summary>
    private static IReadOnlyList<Yaml.Node?>? Parse(IFleetSource source, string path)
    {
        if (!source.Entries.TryGetValue(path, out var entry) || entry.Kind != FleetEntryKind.File)
        {
            return null;
        }

        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(source.ReadAllBytes(path));
            var diagnostics = new Diagnostics.DiagnosticBag();
            var documents = Yaml.YamlReader.ReadDocuments(path, text, diagnostics);
            return diagnostics.ToSortedList().Count == 0 ? documents : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            return null;
        }
    }

    private static bool SameDocuments(IReadOnlyList<Yaml.Node?> left, IReadOnlyList<Yaml.Node?> right) =>
        left.Count == right.Count && left.Zip(right).All(pair => Same(pair.First, pair.Second));

    /// <summary>The same tree with every node at the same place: kinds, keys, values, order, lines and columns.</summary>
    private static bool Same(Yaml.Node? left, Yaml.Node? right) => (left, right) switch
    {
        (null, null) => true,
        (Yaml.ScalarNode a, Yaml.ScalarNode b) => a.Location == b.Location && a.Kind == b.Kind && a.Value == b.Value
            && a.IsQuoted == b.IsQuoted && a.IsSingleLinePlain == b.IsSingleLinePlain,
        (Yaml.SequenceNode a, Yaml.SequenceNode b) => a.Location == b.Location && a.Count == b.Count && a.Items.Zip(b.Items).All(p => Same(p.First, p.Second)),
        (Yaml.MappingNode a, Yaml.MappingNode b) => a.Location == b.Location && a.Count == b.Count
            && a.Entries.Zip(b.Entries).All(p => Same(p.First.Key, p.Second.Key) && Same(p.First.Value, p.Second.Value)),
        _ => false,
    };

    public static IReadOnlySet<string> Between(IFleetSource before, IFleetSource after)
    {
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (path, entry) in after.Entries)
        {
            if (entry.Kind == FleetEntryKind.Directory)
            {
                continue;
            }

            if (!before.Entries.TryGetValue(path, out var old) || old.Kind != entry.Kind || !SameContent(before, after, entry, old))
            {
                changed.Add(path);
            }
        }

        foreach (var (path, entry) in before.Entries)
        {
            if (entry.Kind != FleetEntryKind.Directory && !after.Entries.ContainsKey(path))
            {
                changed.Add(path);
            }
        }

        return changed;
    }

    /// <summary>
    /// The files under <paramref name="fleetPath"/> that differ between <paramref name="since"/> and
    /// <paramref name="until"/> (or the work tree, untracked files included, when null), as Git itself reports
    /// them: its index knows which work-tree files are untouched without reading them. Paths are relative to the
    /// fleet folder. Null when the git command is not there or fails; compare the trees instead.
    /// </summary>
    public static IReadOnlySet<string>? FromGit(string fleetPath, string since, string? until)
    {
        string[] diff = until is null
            ? ["diff", "--name-only", "-z", "--no-renames", "--relative", since, "--", "."]
            : ["diff", "--name-only", "-z", "--no-renames", "--relative", since, until, "--", "."];
        var changed = Git(fleetPath, diff);
        if (changed is null)
        {
            return null;
        }

        var paths = new SortedSet<string>(changed, StringComparer.Ordinal);
        if (until is null)
        {
            var untracked = Git(fleetPath, ["ls-files", "-z", "--others", "--exclude-standard", "--", "."]);
            if (untracked is null)
            {
                return null;
            }

            paths.UnionWith(untracked);
        }

        return paths;
    }

    private static string[]? Git(string directory, string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("core.quotepath=false");
            foreach (var arg in args)
            {
                psi.ArgumentList.Add(arg);
            }

            using var process = Process.Start(psi)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            _ = error.Result;
            return process.ExitCode == 0 ? output.Split('\0', StringSplitOptions.RemoveEmptyEntries) : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static bool SameContent(IFleetSource before, IFleetSource after, FleetEntry entry, FleetEntry old)
    {
        switch (entry.Kind)
        {
            case FleetEntryKind.Symlink:
                return entry.LinkTarget == old.LinkTarget;
            case FleetEntryKind.File when entry.Size != old.Size:
                return false;
            case FleetEntryKind.File:
                var (a, b) = (before.ContentId(entry.Path), after.ContentId(entry.Path));
                return a is not null && b is not null && a.Length == b.Length
                    ? string.Equals(a, b, StringComparison.OrdinalIgnoreCase)
                    : before.ReadAllBytes(entry.Path).AsSpan().SequenceEqual(after.ReadAllBytes(entry.Path));
            default:
                return true;
        }
    }

    /// <summary>The ID Git gives a blob with this content in a SHA-1 repository.</summary>
    public static string GitBlobId(ReadOnlySpan<byte> content)
    {
        var header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        hash.AppendData(header);
        hash.AppendData(content);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}

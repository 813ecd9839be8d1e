using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace EdgeOps.Fleet.Sources;

/// <summary>The files that differ between two trees of a fleet: added, removed or with other content.</summary>
public static class FleetChanges
{
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

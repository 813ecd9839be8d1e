using EdgeOps.Fleet.Sources;

namespace EdgeOps.Cli;

/// <summary>Opens the fleet a command names: a folder, or with a revision, that folder's tree in Git.</summary>
internal static class FleetSources
{
    /// <summary>Lazy: a revision's tree is listed only if its entries are listed, not to read a few of its files.</summary>
    public static IFleetSource Open(string path, string? revision, bool lazy = false)
    {
        if (revision is null)
        {
            if (!Directory.Exists(path))
            {
                throw new FleetSourceException(File.Exists(path)
                    ? $"'{path}' is a file; give the fleet repo's folder"
                    : $"fleet folder '{path}' does not exist");
            }

            return new DirectoryFleetSource(path);
        }

        if (!Directory.Exists(path))
        {
            throw new FleetSourceException($"fleet folder '{path}' does not exist");
        }

        try
        {
            return GitTreeFleetSource.Open(path, revision, lazy);
        }
        catch (LibGit2Sharp.LibGit2SharpException ex)
        {
            throw new FleetSourceException($"cannot read revision '{revision}' of '{path}': {ex.Message}", ex);
        }
    }
}

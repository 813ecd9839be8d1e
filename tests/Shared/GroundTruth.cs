namespace EdgeOps.Tests;

/// <summary>
/// The ground-truth data from other projects lives in ../shared/testdata, beside the checkout. A fresh
/// clone on a user's machine may lack it: there its suites skip, saying why. In CI (CI=true) it must be
/// there, so a missing folder fails the suite instead of letting it pass by skipping.
/// </summary>
internal static class GroundTruth
{
    public static string Folder(params string[] parts) => Path.Combine([RepoPaths.Root, "..", "shared", "testdata", .. parts]);

    /// <summary>True when the folder is there; false (skip) on a user's machine without it; a failure in CI.</summary>
    public static bool Present(string folder)
    {
        if (Directory.Exists(folder))
        {
            return true;
        }

        Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
            $"the ground-truth data is not at {folder}; CI always has ../shared beside the checkout, so this suite must not pass by skipping");
        return false;
    }
}

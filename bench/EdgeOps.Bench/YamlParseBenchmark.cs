using System.Diagnostics;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Bench;

/// <summary>
/// Parsing every YAML file of a fleet (already in memory, so no file system in the figure) with the reader
/// <c>validate</c> uses, which takes plain block YAML itself and hands the rest to YamlDotNet, against the
/// YamlDotNet path alone as the baseline. Rounds alternate between the two; one thread; medians.
/// </summary>
internal static class YamlParseBenchmark
{
    public static int Run(string fleet, int rounds)
    {
        var files = Directory.EnumerateFiles(fleet, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}.git{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path: Path.GetRelativePath(fleet, f), Text: File.ReadAllText(f)))
            .ToArray();
        if (files.Length == 0)
        {
            Console.Error.WriteLine($"no YAML files under {fleet}");
            return 2;
        }

        var taken = files.Count(f => BlockYamlReader.TryRead(f.Path, f.Text, YamlLimits.Default, out _));
        var megabytes = files.Sum(f => (long)f.Text.Length) / 1e6;
        Console.WriteLine($"{files.Length:N0} YAML files, {megabytes:F1} M characters, from {fleet}; {taken:N0} of them plain block YAML that the fast reader takes");

        var fast = new List<double>();
        var full = new List<double>();
        var fastBytes = new List<long>();
        var fullBytes = new List<long>();
        for (var round = 0; round < rounds + 1; round++)
        {
            var (t, b) = Measure(files, YamlReader.ReadDocuments);
            var (tf, bf) = Measure(files, YamlReader.ReadDocumentsFully);
            if (round == 0)
            {
                continue; // warm-up
            }

            fast.Add(t);
            fastBytes.Add(b);
            full.Add(tf);
            fullBytes.Add(bf);
        }

        var fastMedian = Median(fast);
        var fullMedian = Median(full);
        Console.WriteLine($"  validate's reader:  median {fastMedian:F3} s ({files.Length / fastMedian:N0} files/s), {Median(fastBytes) / files.Length:N0} bytes allocated per file");
        Console.WriteLine($"  YamlDotNet only:    median {fullMedian:F3} s ({files.Length / fullMedian:N0} files/s), {Median(fullBytes) / files.Length:N0} bytes allocated per file");
        Console.WriteLine($"  speed-up {fullMedian / fastMedian:F1}x ({rounds} rounds each, alternating, one thread)");
        return 0;
    }

    private static (double Seconds, long Bytes) Measure((string Path, string Text)[] files, Func<string, string, DiagnosticBag, YamlLimits?, IReadOnlyList<Node?>> read)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var stopwatch = Stopwatch.StartNew();
        var documents = 0;
        foreach (var (path, text) in files)
        {
            documents += read(path, text, new DiagnosticBag(), null).Count;
        }

        stopwatch.Stop();
        GC.KeepAlive(documents);
        return (stopwatch.Elapsed.TotalSeconds, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static long Median(List<long> values) => values.Order().ElementAt(values.Count / 2);
}

using System.Globalization;
using EdgeOps.Bench;

// Benchmarks for EdgeOps. Commands:
//   generate-fleet --clusters N --workloads M --out DIR [--seed S]
//       writes a valid, varied synthetic fleet (labels, locations, overlays, values, device configs).
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: EdgeOps.Bench generate-fleet --clusters N --workloads M --out DIR [--seed S]");
    return args.Length == 0 ? 2 : 0;
}

if (args[0] != "generate-fleet")
{
    Console.Error.WriteLine($"unknown command '{args[0]}'");
    return 2;
}

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 1; i + 1 < args.Length; i += 2)
{
    options[args[i]] = args[i + 1];
}

if (!options.TryGetValue("--out", out var output) || !options.TryGetValue("--clusters", out var clusters) || !options.TryGetValue("--workloads", out var workloads))
{
    Console.Error.WriteLine("generate-fleet needs --clusters, --workloads and --out");
    return 2;
}

var seed = options.TryGetValue("--seed", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 42;
var generator = new FleetGenerator(int.Parse(clusters, CultureInfo.InvariantCulture), int.Parse(workloads, CultureInfo.InvariantCulture), seed);
var files = generator.WriteTo(output);
Console.WriteLine($"wrote {files} files to {output}");
return 0;

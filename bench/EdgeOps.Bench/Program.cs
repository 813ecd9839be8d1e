using System.Globalization;
using EdgeOps.Bench;

// Benchmarks for EdgeOps. Commands:
//   reconciler
//       the reconciler's figures: daemon idle RSS, no-op pass, bytes per poll and per change, push to applied.
//   upgrade [--megabytes N]
//       upgrade downloads against curl on the same loopback server, bytes fetched again on resume, and the
//       time from "healthy after the trial boot" to "committed" beyond commitAfter.
//   switch-over
//       BlueGreen: pre-initialised to Services switched, and the exclusive-device handoff gap, on the test API server.
//   verify-commit
//       verifying one SSH-signed commit in-process, per key type, against git verify-commit.
//   verify-bundle
//       verifying one Sigstore bundle in-process after warm-up, per kind of bundle, against a parse+verify baseline.
//   apply [--objects N]
//       server-side apply of N objects into an empty namespace on the test API server, then a no-op pass.
//   policy-throughput [--objects N] [--policy NAME]...
//       the built-in policy library over N varied Deployments on one thread, under Jint and under Node.
//   yaml-parse FLEET [--rounds N]
//       every YAML file of a fleet, in memory, through validate's reader (fast block reader, YamlDotNet for the
//       rest) against YamlDotNet alone, alternating rounds, one thread.
//   collector [--clusters N] [--reports N]
//       signed reports accepted per second on SQLite and PostgreSQL, the fleet page for the whole fleet in
//       headless Chromium, and an agent's bytes per day on reports and gate checks at a 5-minute heartbeat.
//   generate-fleet --clusters N --workloads M --out DIR [--seed S] [--policies builtin|none]
//       writes a valid, varied synthetic fleet (labels, locations, overlays, values, device configs),
//       with the whole built-in policy library enabled unless --policies none.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: EdgeOps.Bench generate-fleet --clusters N --workloads M --out DIR [--seed S] [--policies builtin|none]");
    return args.Length == 0 ? 2 : 0;
}

if (args[0] == "reconciler")
{
    return await ReconcilerBenchmark.RunAsync(objects: 200, commits: 1000);
}

if (args[0] == "verify-bundle")
{
    return BundleVerifyBenchmark.Run(RepoRoot(), iterations: 200, batches: 11);
}

if (args[0] == "upgrade")
{
    var megabytes = args.Length > 2 && args[1] == "--megabytes" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 64;
    return await UpgradeBenchmark.RunAsync(megabytes, rounds: 5);
}

if (args[0] == "collector")
{
    int Arg(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    return await CollectorBenchmark.RunAsync(Arg("--clusters", 50_000), Arg("--reports", 20_000), rounds: 3);
}

if (args[0] == "switch-over")
{
    return await SwitchOverBenchmark.RunAsync(rounds: 5);
}

if (args[0] == "verify-commit")
{
    return CommitVerifyBenchmark.Run(iterations: 200, batches: 11);
}

if (args[0] == "apply")
{
    var objects = args.Length > 2 && args[1] == "--objects" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
    return await ApplyBenchmark.RunAsync(objects, rounds: 5);
}

if (args[0] == "policy-throughput")
{
    var count = 10_000;
    var only = new List<string>();
    string? policyDirectory = null;
    for (var i = 1; i + 1 < args.Length; i += 2)
    {
        if (args[i] == "--policies")
        {
            policyDirectory = Path.GetFullPath(args[i + 1]);
        }

        else if (args[i] == "--objects")
        {
            count = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        }
        else if (args[i] == "--policy")
        {
            only.Add(args[i + 1]);
        }
    }

    return PolicyThroughput.Run(count, policyDirectory ?? Path.Combine(RepoRoot(), "policies"), RepoRoot(), only, builtIn: policyDirectory is null);
}

if (args[0] == "yaml-parse" && args.Length > 1)
{
    var rounds = args.Length > 3 && args[2] == "--rounds" ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5;
    return YamlParseBenchmark.Run(args[1], rounds);
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
var policies = !options.TryGetValue("--policies", out var p) || p != "none";
var generator = new FleetGenerator(int.Parse(clusters, CultureInfo.InvariantCulture), int.Parse(workloads, CultureInfo.InvariantCulture), seed, policies);
var files = generator.WriteTo(output);
Console.WriteLine($"wrote {files} files to {output}");
return 0;

static string RepoRoot()
{
    var root = AppContext.BaseDirectory;
    while (!File.Exists(Path.Combine(root, "EdgeOps.sln")))
    {
        root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("run from inside the EdgeOps checkout");
    }

    return root;
}

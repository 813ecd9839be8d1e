using System.Collections.Immutable;
using System.Diagnostics;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Evaluation;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;

namespace EdgeOps.Policy.Testing;

public enum Expectation
{
    Pass,
    Fail,
}

/// <summary>One expectation of a policy test and whether it held.</summary>
public sealed record PolicyTestCase(
    string Suite,
    string Name,
    bool Passed,
    string? Failure,
    SourceLocation Location,
    TimeSpan Duration);

public sealed record PolicyTestReport(ImmutableArray<PolicyTestCase> Cases, IReadOnlyList<Diagnostic> Diagnostics)
{
    public int Passed => Cases.Count(c => c.Passed);

    public int Failed => Cases.Count(c => !c.Passed);

    public bool Ok => Failed == 0 && !Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// Runs policy test files (kind PolicyTest): objects, an optional cluster, the policies to apply
/// and, per object, the expected result of each policy and control. Like <c>kyverno test</c>.
/// </summary>
/// <remarks>
/// <code>
/// apiVersion: edgeops.io/v1alpha1
/// kind: PolicyTest
/// metadata: {name: robots-need-digests}
/// spec:
///   policies: [image-provenance]               # names: the folder's *.js files first, then built-ins
///   parameters: {image-provenance: {...}}        # optional, as in fleet.yaml
///   cluster: {metadata: {name: r1, labels: {tier: micro}}, spec: {...}}   # optional Cluster
///   objects: [ {apiVersion: apps/v1, kind: Deployment, ...} ]             # and/or
///   resources: [manifests.yaml]                  # files relative to the test file
///   expect:
///     - {object: Deployment/app, policy: image-provenance, control: digestRequired, result: fail}
///     - {object: cluster, policy: cost-budget, control: monthlyBudget, result: pass}
/// </code>
/// </remarks>
public sealed class PolicyTestRunner
{
    private static readonly string[] Results = ["pass", "fail"];

    public PolicyTestReport Run(string directory, CancellationToken cancellationToken = default)
    {
        var diagnostics = new DiagnosticBag();
        var cases = ImmutableArray.CreateBuilder<PolicyTestCase>();
        var root = Path.GetFullPath(directory);

        // Everything is read through the fleet's safe file access, confined to the folder: links are
        // followed only inside it, FIFOs and devices are refused, sizes and encodings are checked.
        using var source = new DirectoryFleetSource(root);
        var files = new TestFiles(root, new FleetFiles(source));
        // The folder's policies are known by the name they declare (policy.name), whatever their file is called.
        var localSources = new List<PolicySourceFile>();
        foreach (var path in source.Entries.Values
            .Where(e => e.Kind == FleetEntryKind.File && !e.Path.Contains('/', StringComparison.Ordinal) && e.Path.EndsWith(".js", StringComparison.Ordinal))
            .Select(e => e.Path)
            .Order(StringComparer.Ordinal))
        {
            if (files.Read(path, diagnostics) is { } text)
            {
                localSources.Add(new PolicySourceFile(files.Display(path), text));
            }
        }

        var localPolicies = PolicyLoader.Load(localSources, diagnostics).Policies.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var builtIns = new Dictionary<string, PolicyDefinition?>(StringComparer.Ordinal);
        var testFiles = source.Entries.Values
            .Where(e => e.Kind == FleetEntryKind.File && (e.Path.EndsWith(".yaml", StringComparison.Ordinal) || e.Path.EndsWith(".yml", StringComparison.Ordinal)))
            .Select(e => e.Path)
            .Order(StringComparer.Ordinal);
        foreach (var file in testFiles)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var errorsBefore = diagnostics.ErrorCount;
            var documents = files.Read(file, diagnostics) is { } text ? YamlReader.ReadDocuments(files.Display(file), text, diagnostics) : [];
            if (diagnostics.ErrorCount > errorsBefore)
            {
                // A file that cannot be read as YAML may be a test: it fails, so the summary never says "0 failed" over a broken folder.
                cases.Add(new PolicyTestCase(files.Display(file), "test file", false, "the file cannot be read as YAML (see above)", SourceLocation.FileStart(files.Display(file)), TimeSpan.Zero));
                continue;
            }

            foreach (var document in documents)
            {
                if (document is MappingNode map && map.GetString("kind") == FleetApi.PolicyTestKind)
                {
                    RunTest(map, file, files, localPolicies, builtIns, cases, diagnostics, cancellationToken);
                }
            }
        }

        return new PolicyTestReport(cases.ToImmutable(), diagnostics.ToSortedList());
    }

    /// <summary>The test folder's files, by path relative to it, shown relative to the working folder.</summary>
    private sealed class TestFiles(string root, FleetFiles files)
    {
        public FleetFiles Files => files;

        public string Display(string path) => Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(root, path));

        public string? Read(string path, DiagnosticBag diagnostics)
        {
            var bag = new DiagnosticBag();
            var text = files.ReadText(path, bag);
            foreach (var d in bag.ToSortedList())
            {
                diagnostics.Add(d with { Location = d.Location with { Path = Display(d.Location.Path) } });
            }

            return text;
        }
    }

    private static void RunTest(
        MappingNode document,
        string testFile,
        TestFiles files,
        IReadOnlyDictionary<string, PolicyDefinition> localPolicies,
        Dictionary<string, PolicyDefinition?> builtIns,
        ImmutableArray<PolicyTestCase>.Builder cases,
        DiagnosticBag diagnostics,
        CancellationToken cancellationToken)
    {
        var errorsBefore = diagnostics.ErrorCount;
        var file = files.Display(testFile);
        var reader = new FieldReader(document, FleetApi.PolicyTestKind, diagnostics);
        reader.Raw("apiVersion");
        reader.Raw("kind");
        var name = reader.Object("metadata", required: true)?.String("name", required: true)?.Value ?? "unnamed";
        var spec = reader.Object("spec", required: true);
        reader.Finish();
        if (spec is null)
        {
            return;
        }

        var policyNames = spec.Strings("policies", required: true);
        var parameters = spec.Mapping("parameters");
        var clusterNode = spec.Mapping("cluster");
        var inline = spec.Sequence("objects");
        var resources = spec.Strings("resources");
        var expectations = spec.Objects("expect", required: true).Select(e => ReadExpectation(e)).Where(e => e is not null).Select(e => e!).ToList();
        spec.Finish();

        var chosen = new List<PolicyDefinition>();
        foreach (var policyName in policyNames)
        {
            if (localPolicies.TryGetValue(policyName.Value, out var local))
            {
                chosen.Add(local);
            }
            else if (BuiltInModules.PolicyNames.Contains(policyName.Value))
            {
                if (!builtIns.TryGetValue(policyName.Value, out var builtIn))
                {
                    builtIn = builtIns[policyName.Value] = PolicyLoader.Load([PolicySourceFile.BuiltInPolicy(policyName.Value)], diagnostics).Policies.SingleOrDefault();
                }

                if (builtIn is not null)
                {
                    chosen.Add(builtIn);
                }
            }
            else
            {
                diagnostics.Error(policyName.Location, Codes.PolicyUnknown,
                    $"no policy named '{policyName.Value}' in the folder or built in (local policies: {(localPolicies.Count == 0 ? "none" : string.Join(", ", localPolicies.Keys.Order(StringComparer.Ordinal)))})");
            }
        }

        var documents = new List<ManifestDocument>();
        if (inline is not null)
        {
            foreach (var item in inline.Items)
            {
                if (item is MappingNode map && ObjectOk(map))
                {
                    documents.Add(new ManifestDocument(file, documents.Count, map));
                }
                else
                {
                    diagnostics.Error(item.Location, Codes.ManifestMissingName, "each object needs apiVersion, kind and metadata.name");
                }
            }
        }

        foreach (var resource in resources)
        {
            if (Path.IsPathRooted(resource.Value))
            {
                diagnostics.Error(resource.Location, Codes.SymlinkOutsideRepo, $"resource file '{resource.Value}' is an absolute path; resources are files inside the test folder, relative to the test file");
                continue;
            }

            var path = FleetFiles.Combine(FleetFiles.DirectoryOf(testFile), resource.Value);
            var entry = files.Files.Resolve(path, out var error);
            if (entry is null || entry.Kind != FleetEntryKind.File)
            {
                diagnostics.Error(resource.Location, error?.Contains("outside", StringComparison.Ordinal) == true ? Codes.SymlinkOutsideRepo : Codes.FileNotFound,
                    $"resource file '{resource.Value}' {error ?? (entry?.Kind == FleetEntryKind.Special ? "is a FIFO, socket or device" : "is not a file")}; resources must be files inside the test folder");
                continue;
            }

            if (files.Read(path, diagnostics) is { } text)
            {
                documents.AddRange(StandaloneTarget.Read(files.Display(path), text, diagnostics));
            }
        }

        Cluster? cluster = clusterNode is null ? null : FleetLoader.ReadCluster(clusterNode, diagnostics);
        var set = new PolicySet([.. chosen.DistinctBy(p => p.Name).OrderBy(p => p.Name, StringComparer.Ordinal)]);
        PolicySets.CheckParameters(parameters, set, diagnostics);
        foreach (var expectation in expectations)
        {
            // An expectation about a control the policy does not have could never fail: it is a mistake in the test.
            if (expectation.Control is { } control && set.Policies.FirstOrDefault(p => p.Name == expectation.Policy) is { Controls.IsEmpty: false } policy
                && !policy.Controls.Contains(control))
            {
                diagnostics.Error(expectation.Location, Codes.PolicyUnknown,
                    $"policy '{policy.Name}' has no control '{control}' (its controls: {string.Join(", ", policy.Controls)})");
            }
        }
        if (diagnostics.ErrorCount > errorsBefore)
        {
            cases.Add(new PolicyTestCase(name, "test definition", false, "the test file has errors (see above)", document.Location, TimeSpan.Zero));
            return;
        }

        var stopwatch = Stopwatch.StartNew();
        using var engine = new PolicyEngine(set, new PolicyEngineOptions { Parameters = parameters, CancellationToken = cancellationToken });
        var evaluation = engine.Evaluate(StandaloneTarget.For(documents, cluster));
        var elapsed = stopwatch.Elapsed;
        foreach (var error in evaluation.Errors)
        {
            diagnostics.Add(error);
        }

        foreach (var expectation in expectations)
        {
            cases.Add(Judge(name, expectation, documents, evaluation, elapsed / Math.Max(1, expectations.Count)));
        }
    }

    private static PolicyTestCase Judge(string suite, ExpectationSpec expectation, List<ManifestDocument> documents, PolicyEvaluation evaluation, TimeSpan duration)
    {
        var caseName = $"{expectation.Object} {expectation.Policy}{(expectation.Control is null ? string.Empty : "/" + expectation.Control)} should {expectation.Result.ToString().ToLowerInvariant()}";
        var isCluster = expectation.Object == "cluster";
        if (!isCluster && !documents.Any(d => Matches(d, expectation.Object)))
        {
            return new PolicyTestCase(suite, caseName, false, $"no object {expectation.Object} in the test", expectation.Location, duration);
        }

        var failure = evaluation.Errors.FirstOrDefault(e => e.Rule == expectation.Policy);
        if (failure is not null)
        {
            return new PolicyTestCase(suite, caseName, false, $"the policy failed: {failure.Message}", expectation.Location, duration);
        }

        // "cluster" expectations take every violation of the policy (cluster-level policies may name an object).
        var found = evaluation.Violations.Where(v => v.Policy == expectation.Policy
                && (expectation.Control is null || v.Control == expectation.Control)
                && (isCluster || (v.Object is { } id && documents.Any(d => Matches(d, expectation.Object) && d.Id == id))))
            .ToList();

        var failed = found.Count > 0;
        var ok = failed == (expectation.Result == Expectation.Fail);
        string? message = ok ? null : expectation.Result == Expectation.Fail
            ? $"expected a violation, found none{Others(evaluation, expectation.Policy)}"
            : $"expected no violation, found: {string.Join("; ", found.Select(v => $"{v.Rule}: {v.Message}"))}";
        return new PolicyTestCase(suite, caseName, ok, message, expectation.Location, duration);
    }

    private static string Others(PolicyEvaluation evaluation, string policy)
    {
        var others = evaluation.Violations.Where(v => v.Policy == policy).Select(v => v.Rule).Distinct().ToList();
        return others.Count == 0 ? string.Empty : $" (the policy reported {string.Join(", ", others)})";
    }

    private static bool Matches(ManifestDocument document, string reference)
    {
        var parts = reference.Split('/');
        var id = document.Id;
        return parts.Length switch
        {
            2 => id.Kind == parts[0] && id.Name == parts[1],
            3 => id.Kind == parts[0] && (id.Namespace ?? "default") == parts[1] && id.Name == parts[2],
            _ => false,
        };
    }

    private static bool ObjectOk(MappingNode map) =>
        map.GetString("apiVersion") is { Length: > 0 } && map.GetString("kind") is { Length: > 0 } && (map["metadata"] as MappingNode)?.GetString("name") is { Length: > 0 };

    private static ExpectationSpec? ReadExpectation(FieldReader reader)
    {
        var target = reader.String("object", required: true);
        var policy = reader.String("policy", required: true);
        var control = reader.String("control");
        var result = reader.Enum("result", Results, required: true);
        reader.Finish();
        if (target is null || policy is null || result is null)
        {
            return null;
        }

        if (target.Value != "cluster" && target.Value.Split('/').Length is not (2 or 3))
        {
            reader.Error(target.Location, Codes.InvalidValue, "object must be kind/name, kind/namespace/name or cluster");
            return null;
        }

        return new ExpectationSpec(target.Value, policy.Value, control?.Value, result == "fail" ? Expectation.Fail : Expectation.Pass, reader.Node.Location);
    }

    private sealed record ExpectationSpec(string Object, string Policy, string? Control, Expectation Result, SourceLocation Location);
}

using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Sources;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Loading;

public sealed record LoaderOptions
{
    public static readonly LoaderOptions Default = new();

    public long MaxFileBytes { get; init; } = FleetFiles.DefaultMaxFileBytes;

    public YamlLimits Yaml { get; init; } = YamlLimits.Default;
}

/// <summary>The outcome of loading a fleet: the model (as much of it as is valid) and every problem found.</summary>
public sealed record LoadResult(FleetModel Fleet, IReadOnlyList<Diagnostic> Diagnostics, FleetFiles Files)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// Loads a fleet repo from any <see cref="IFleetSource"/>. Kinds are recognised by apiVersion and
/// kind, not by folder; every other YAML file must be a manifest that some workload references.
/// All problems are collected; loading never stops at the first one.
/// </summary>
public sealed class FleetLoader
{
    private static readonly string[] YamlExtensions = [".yaml", ".yml"];
    private static readonly string[] ManifestExtensions = [".yaml", ".yml", ".json"];

    private readonly LoaderOptions _options;

    public FleetLoader(LoaderOptions? options = null) => _options = options ?? LoaderOptions.Default;

    public LoadResult Load(IFleetSource source)
    {
        var diagnostics = new DiagnosticBag();
        var files = new FleetFiles(source, _options.MaxFileBytes);
        var fleet = Load(files, diagnostics);
        return new LoadResult(fleet, diagnostics.ToSortedList(), files);
    }

    internal FleetModel Load(FleetFiles files, DiagnosticBag diagnostics)
    {
        var source = files.Source;
        ReportEscapingLinks(files, diagnostics);

        var yamlPaths = source.Entries.Values
            .Where(e => HasExtension(e.Path, YamlExtensions)
                && (e.Kind is FleetEntryKind.File or FleetEntryKind.Special // a FIFO or device is reported when it is read, never opened
                    || (e.Kind == FleetEntryKind.Symlink && files.Resolve(e.Path, out _)?.Kind == FleetEntryKind.File)))
            .Select(e => e.Path)
            .Order(StringComparer.Ordinal)
            .ToArray();
        // Each file is read, parsed and its EdgeOps objects read in one parallel pass, so that a cluster file's tree
        // is garbage as soon as its Cluster is read; what must see every file in order (names, the one Fleet)
        // follows, in path order, over what the pass kept.
        var read = ReadAll(files, yamlPaths);
        var manifestCandidates = new HashSet<string>(StringComparer.Ordinal);
        FleetSettings? settings = null;
        var clusters = new List<Cluster>();
        var workloads = new List<Workload>();
        var deviceConfigs = new List<DeviceConfig>();
        var upgradePlans = new List<UpgradePlan>();
        var names = new Dictionary<(string Kind, string Name), SourceLocation>();
        foreach (var file in read)
        {
            diagnostics.AddRange(file.Problems);
            if (file.ManifestCandidate)
            {
                manifestCandidates.Add(file.Path);
            }

            foreach (var o in file.Objects)
            {
                diagnostics.AddRange(o.MetaProblems);
                if (o.Meta is not { } meta)
                {
                    // Read anyway, so its problems are reported in the same run.
                    diagnostics.AddRange(o.BodyProblems);
                    continue;
                }

                if (names.TryGetValue((o.Kind, meta.Name.Value), out var first))
                {
                    diagnostics.Add(new Diagnostic(meta.Name.Location, Severity.Error, Codes.DuplicateName,
                        $"{o.Kind} '{meta.Name.Value}' is already defined at {first}")
                    { Related = [first] });
                    continue;
                }

                names[(o.Kind, meta.Name.Value)] = meta.Name.Location;
                if (o.Kind == FleetApi.FleetKind && settings is not null)
                {
                    diagnostics.Error(meta.Name.Location, Codes.FleetCount,
                        $"a fleet repo holds exactly one Fleet object; '{settings.Name}' is already defined at {settings.Metadata.Name.Location}");
                    continue;
                }

                diagnostics.AddRange(o.BodyProblems);
                switch (o.Model)
                {
                    case FleetSettings fleetSettings:
                        settings = fleetSettings;
                        break;
                    case Cluster cluster:
                        clusters.Add(cluster);
                        break;
                    case Workload workload:
                        workloads.Add(workload);
                        break;
                    case DeviceConfig deviceConfig:
                        deviceConfigs.Add(deviceConfig);
                        break;
                    case UpgradePlan upgradePlan:
                        upgradePlans.Add(upgradePlan);
                        break;
                }
            }
        }

        if (settings is null && !names.Keys.Any(k => k.Kind == FleetApi.FleetKind))
        {
            diagnostics.Error(SourceLocation.FileStart("fleet.yaml"), Codes.FleetCount,
                $"no Fleet object found: a fleet repo needs one (kind: Fleet, apiVersion: {FleetApi.ApiVersion}), conventionally in fleet.yaml");
        }

        settings ??= new FleetSettings(
            new ObjectMeta(new Located<string>("fleet", SourceLocation.None), ImmutableSortedDictionary<string, string>.Empty, SourceLocation.None),
            SourceLocation.None, PolicySettings.Default, TrustSettings.Default, FleetDefaults.Default);

        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var parsedByPath = read.ToDictionary(f => f.Path, StringComparer.Ordinal);

        var loadedWorkloads = workloads
            .Select(w => LoadManifests(w, files, parsedByPath, manifestCandidates, referenced, diagnostics))
            .OrderBy(w => w.Name, StringComparer.Ordinal)
            .ToImmutableArray();

        foreach (var path in manifestCandidates.Where(p => !referenced.Contains(p)).Order(StringComparer.Ordinal))
        {
            if (!IsPolicyData(path, settings) && parsedByPath[path].Documents is { Count: > 0 })
            {
                diagnostics.Warning(SourceLocation.FileStart(path), Codes.UnreferencedFile,
                    "YAML file holds no EdgeOps object and no workload references it as a manifest; it is ignored");
            }
        }

        var fleet = new FleetModel(
            settings,
            [.. clusters.OrderBy(c => c.Name, StringComparer.Ordinal)],
            loadedWorkloads,
            [.. deviceConfigs.OrderBy(d => d.Name, StringComparer.Ordinal)],
            [.. upgradePlans.OrderBy(u => u.Name, StringComparer.Ordinal)],
            source.Revision);
        ReferenceChecks.Run(fleet, files, diagnostics);
        return fleet;
    }

    /// <summary>
    /// Reads one Cluster object from a YAML text outside any fleet (for <c>edgeops check --cluster-file</c>).
    /// apiVersion and kind may be omitted; if present they must say Cluster.
    /// </summary>
    public static Cluster? ReadCluster(string path, string text, DiagnosticBag diagnostics)
    {
        var doc = YamlReader.ReadDocuments(path, text, diagnostics).FirstOrDefault(d => d is not null);
        if (doc is not MappingNode map)
        {
            if (!diagnostics.HasErrors)
            {
                diagnostics.Error(doc?.Location ?? SourceLocation.FileStart(path), Codes.NotAnObject, "a cluster file must hold a Cluster object (a mapping)");
            }

            return null;
        }

        return ReadCluster(map, diagnostics);
    }

    /// <summary>Reads a Cluster object from a mapping already parsed (such as one inside a policy test).</summary>
    public static Cluster? ReadCluster(MappingNode map, DiagnosticBag diagnostics)
    {
        var root = new FieldReader(map, FleetApi.ClusterKind, diagnostics);
        var apiVersion = root.String("apiVersion");
        var kind = root.String("kind");
        if (kind is not null && kind.Value != FleetApi.ClusterKind)
        {
            diagnostics.Error(kind.Location, Codes.UnknownKind, $"expected kind Cluster, found '{kind.Value}'");
            return null;
        }

        if (apiVersion is not null && apiVersion.Value != FleetApi.ApiVersion)
        {
            diagnostics.Error(apiVersion.Location, Codes.UnknownApiVersion, $"apiVersion '{apiVersion.Value}' is not supported; use {FleetApi.ApiVersion}");
            return null;
        }

        var meta = CommonReaders.Metadata(root, FleetApi.ClusterKind);
        return meta is null ? null : KindReaders.Cluster(root, meta);
    }

    /// <summary>One YAML file after the parallel pass: its own problems, the EdgeOps objects read from it, and its
    /// documents, kept only when it may be a Kubernetes manifest (it holds no EdgeOps object and nothing is wrong).</summary>
    private sealed class ReadFile(string path)
    {
        public string Path { get; } = path;

        /// <summary>Read and parsed (null when it could not be read).</summary>
        public bool Parsed { get; set; }

        public bool ManifestCandidate { get; set; }

        /// <summary>Holds a document of the EdgeOps API group (a workload file, not a manifest).</summary>
        public bool HoldsFleetDocuments { get; set; }

        public IReadOnlyList<Node?>? Documents { get; set; }

        public IReadOnlyList<Diagnostic> Problems { get; set; } = [];

        public List<ReadObject> Objects { get; } = [];
    }

    /// <summary>An EdgeOps object as read, with the problems of its metadata apart from the rest (dropped for a duplicate).</summary>
    private sealed record ReadObject(string Kind, ObjectMeta? Meta, object? Model, IReadOnlyList<Diagnostic> MetaProblems, IReadOnlyList<Diagnostic> BodyProblems);

    private ReadFile[] ReadAll(FleetFiles files, string[] paths)
    {
        var read = new ReadFile[paths.Length];
        void ReadOne(int i) => read[i] = Read(files, paths[i]);

        if (files.Source.SupportsConcurrentReads && paths.Length > 64)
        {
            Parallel.For(0, paths.Length, ReadOne);
        }
        else
        {
            for (var i = 0; i < paths.Length; i++)
            {
                ReadOne(i);
            }
        }

        return read;
    }

    private ReadFile Read(FleetFiles files, string path)
    {
        var file = new ReadFile(path);
        var problems = new DiagnosticBag();
        var text = files.ReadText(path, problems);
        var docs = text is null ? null : YamlReader.ReadDocuments(path, text, problems, _options.Yaml);
        if (docs is not null)
        {
            file.Parsed = true;
            var fleetDocs = 0;
            var errorsBefore = problems.ErrorCount;
            foreach (var doc in docs)
            {
                if (Classify(doc, path, problems) is { } kind)
                {
                    file.Objects.Add(ReadObjectOf(path, (MappingNode)doc!, kind));
                    fleetDocs++;
                }
            }

            if (fleetDocs == 0 && problems.ErrorCount == errorsBefore)
            {
                // No EdgeOps object and nothing wrong: a Kubernetes manifest, if a workload uses it.
                file.ManifestCandidate = true;
                file.Documents = docs;
            }
            else if (fleetDocs > 0 && fleetDocs != docs.Count(d => d is not null))
            {
                foreach (var doc in docs)
                {
                    if (doc is not null && !IsFleetDocument(doc))
                    {
                        problems.Error(doc.Location, Codes.NotAnObject,
                            $"document is not an EdgeOps object (apiVersion {FleetApi.ApiVersion}); Kubernetes manifests belong in their own files, referenced from a Workload");
                    }
                }
            }

            file.HoldsFleetDocuments = docs.Any(d => d is not null && IsFleetDocument(d));
        }

        file.Problems = problems.InOrder();
        return file;
    }

    private static ReadObject ReadObjectOf(string file, MappingNode node, string kind)
    {
        var problems = new DiagnosticBag();
        var root = new FieldReader(node, kind, problems);
        root.Raw("apiVersion");
        root.Raw("kind");
        var meta = CommonReaders.Metadata(root, kind);
        var metaProblems = problems.InOrder();
        // Without a name, the rest is read against a placeholder, so its problems are reported in the same run.
        var used = meta ?? new ObjectMeta(new Located<string>("unnamed", node.Location), ImmutableSortedDictionary<string, string>.Empty, node.Location);
        object? model = kind switch
        {
            FleetApi.FleetKind => KindReaders.Fleet(root, used),
            FleetApi.ClusterKind => KindReaders.Cluster(root, used),
            FleetApi.WorkloadKind => KindReaders.Workload(root, used, file),
            FleetApi.DeviceConfigKind => KindReaders.DeviceConfig(root, used),
            _ => KindReaders.UpgradePlan(root, used),
        };
        var all = problems.InOrder();
        return new ReadObject(kind, meta, meta is null ? null : model, metaProblems, [.. all.Skip(metaProblems.Count)]);
    }

    private Workload LoadManifests(
        Workload workload,
        FleetFiles files,
        Dictionary<string, ReadFile> parsedByPath,
        HashSet<string> manifestCandidates,
        HashSet<string> referenced,
        DiagnosticBag diagnostics)
    {
        var manifests = ImmutableArray.CreateBuilder<Manifest>();
        foreach (var located in workload.ManifestPaths)
        {
            var path = FleetFiles.Combine(workload.Directory, located.Value);
            if (path.StartsWith("..", StringComparison.Ordinal))
            {
                diagnostics.Error(located.Location, Codes.ManifestNotFound, $"manifest path '{located.Value}' leaves the repository");
                continue;
            }

            var entry = files.Resolve(path, out var error);
            if (entry is null)
            {
                var code = error!.Contains("outside", StringComparison.Ordinal) ? Codes.SymlinkOutsideRepo : Codes.ManifestNotFound;
                diagnostics.Error(located.Location, code, $"manifest path '{located.Value}' ({path}) {error}");
                continue;
            }

            IEnumerable<string> manifestFiles;
            if (entry.Kind == FleetEntryKind.Directory)
            {
                var prefix = path.Length == 0 ? string.Empty : path + "/";
                manifestFiles = files.Source.Entries.Values
                    .Where(e => e.Kind != FleetEntryKind.Directory && e.Path.StartsWith(prefix, StringComparison.Ordinal)
                        && HasExtension(e.Path, ManifestExtensions) && !IsWorkloadFile(parsedByPath, e.Path))
                    .Select(e => e.Path)
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (!manifestFiles.Any())
                {
                    diagnostics.Warning(located.Location, Codes.ManifestNotFound, $"manifest folder '{located.Value}' holds no YAML or JSON files");
                }
            }
            else
            {
                manifestFiles = [path];
            }

            foreach (var file in manifestFiles)
            {
                if (!manifestCandidates.Contains(file) && parsedByPath.TryGetValue(file, out var fleetFile) && fleetFile.Parsed)
                {
                    diagnostics.Error(located.Location, Codes.ManifestNotAMapping, $"manifest path '{located.Value}' names {file}, which holds EdgeOps objects, not Kubernetes manifests");
                    continue;
                }

                referenced.Add(file);
                IReadOnlyList<Node?>? docs;
                if (parsedByPath.TryGetValue(file, out var parsed))
                {
                    docs = parsed.Documents;
                }
                else
                {
                    var text = files.ReadText(file, diagnostics);
                    docs = text is null ? null : YamlReader.ReadDocuments(file, text, diagnostics, _options.Yaml);
                    parsedByPath[file] = new ReadFile(file)
                    {
                        Parsed = docs is not null,
                        ManifestCandidate = true,
                        HoldsFleetDocuments = docs?.Any(d => d is not null && IsFleetDocument(d)) == true,
                        Documents = docs,
                    };
                }

                if (docs is null)
                {
                    continue;
                }

                for (var i = 0; i < docs.Count; i++)
                {
                    if (CheckManifest(docs[i], file, diagnostics) is { } body)
                    {
                        manifests.Add(new Manifest(body, file, i, Substitution.ContainsVariables(body)));
                    }
                }
            }
        }

        return workload with { Manifests = manifests.ToImmutable() };
    }

    private static MappingNode? CheckManifest(Node? doc, string file, DiagnosticBag diagnostics)
    {
        switch (doc)
        {
            case null:
                return null;
            case SequenceNode { Count: > 0 } list when list.Items.All(i => i is MappingNode):
                diagnostics.Error(doc.Location, Codes.ManifestNotAMapping,
                    "manifest is a list; write one object per YAML document, separated by ---, or use kind: List");
                return null;
            case not MappingNode:
                diagnostics.Error(doc.Location, Codes.ManifestNotAMapping, $"manifest must be a Kubernetes object (a mapping), not a {doc.TypeName}");
                return null;
        }

        var map = (MappingNode)doc;
        var ok = true;
        if (map["apiVersion"] is not ScalarNode { Kind: ScalarKind.String, Value.Length: > 0 })
        {
            diagnostics.Error(map["apiVersion"]?.Location ?? map.Location, Codes.ManifestMissingApiVersion, "Kubernetes object has no apiVersion");
            ok = false;
        }

        if (map["kind"] is not ScalarNode { Kind: ScalarKind.String, Value.Length: > 0 })
        {
            diagnostics.Error(map["kind"]?.Location ?? map.Location, Codes.ManifestMissingKind, "Kubernetes object has no kind");
            ok = false;
        }

        if (map["metadata"] is not MappingNode meta || meta["name"] is not ScalarNode { Kind: ScalarKind.String, Value.Length: > 0 })
        {
            var where = (map["metadata"] as MappingNode)?["name"]?.Location ?? map["metadata"]?.Location ?? map.Location;
            diagnostics.Error(where, Codes.ManifestMissingName, "Kubernetes object has no metadata.name");
            ok = false;
        }

        if (map["metadata"] is MappingNode m && m["namespace"] is { } ns && ns is not ScalarNode { Kind: ScalarKind.String })
        {
            diagnostics.Error(ns.Location, Codes.ManifestMissingName, $"metadata.namespace must be a name, not {FieldReader.Article(ns.TypeName)}");
            ok = false;
        }

        _ = file;
        return ok ? map : null;
    }

    private static string? Classify(Node? doc, string path, DiagnosticBag diagnostics)
    {
        if (doc is not MappingNode map)
        {
            return null;
        }

        var apiVersion = map["apiVersion"] as ScalarNode;
        var kind = map.GetString("kind");
        var isOurGroup = apiVersion?.Value.StartsWith(FleetApi.Group + "/", StringComparison.Ordinal) == true;
        if (!isOurGroup)
        {
            if (apiVersion is null && kind is not null && FleetApi.Kinds.Contains(kind))
            {
                diagnostics.Error(map.KeyNode("kind")!.Location, Codes.NotAnObject,
                    $"{kind} object has no apiVersion; add apiVersion: {FleetApi.ApiVersion}");
            }

            return null;
        }

        if (apiVersion!.Value != FleetApi.ApiVersion)
        {
            diagnostics.Error(apiVersion.Location, Codes.UnknownApiVersion,
                $"apiVersion '{apiVersion.Value}' is not supported; this version of EdgeOps reads {FleetApi.ApiVersion}");
            return null;
        }

        if (kind is null)
        {
            diagnostics.Error(map.Location, Codes.NotAnObject, "EdgeOps object has no kind");
            return null;
        }

        if (kind == FleetApi.PolicyTestKind)
        {
            // Policy test cases are read by `edgeops test`, not by the fleet loader.
            return null;
        }

        if (!FleetApi.Kinds.Contains(kind))
        {
            diagnostics.Error(map["kind"]!.Location, Codes.UnknownKind,
                $"unknown kind '{kind}'; EdgeOps kinds are {string.Join(", ", FleetApi.Kinds)}{FieldReader.Suggest(kind, FleetApi.Kinds)}");
            return null;
        }

        _ = path;
        return kind;
    }

    private static bool IsFleetDocument(Node doc) =>
        doc is MappingNode map && map.GetString("apiVersion")?.StartsWith(FleetApi.Group + "/", StringComparison.Ordinal) == true;

    private static bool IsWorkloadFile(Dictionary<string, ReadFile> parsed, string path) =>
        parsed.TryGetValue(path, out var file) && file.HoldsFleetDocuments;

    private static bool IsPolicyData(string path, FleetSettings settings) =>
        path.StartsWith("policies/", StringComparison.Ordinal)
        || settings.Policies.Paths.Any(p => path.StartsWith(FleetFiles.Normalize(p.Value) + "/", StringComparison.Ordinal));

    private static void ReportEscapingLinks(FleetFiles files, DiagnosticBag diagnostics)
    {
        foreach (var entry in files.Source.Entries.Values.Where(e => e.Kind == FleetEntryKind.Symlink).OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            if (files.Resolve(entry.Path, out var error) is null
                && (error!.Contains("outside", StringComparison.Ordinal) || error.Contains("repository root", StringComparison.Ordinal)))
            {
                diagnostics.Error(SourceLocation.FileStart(entry.Path), Codes.SymlinkOutsideRepo, $"'{entry.Path}' {error}");
            }
        }
    }

    private static bool HasExtension(string path, string[] extensions) =>
        extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));
}

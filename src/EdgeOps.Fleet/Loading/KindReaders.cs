using System.Collections.Immutable;
using System.Text.RegularExpressions;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Loading;

/// <summary>The schema of each EdgeOps kind, as readers that report and carry on.</summary>
internal static partial class KindReaders
{
    private static readonly string[] Enforcements = ["deny", "warn"];
    private static readonly string[] CommitModes = ["ssh", "sigstore", "unsigned"];
    private static readonly string[] Handlers = ["udev", "onvif", "opcua", "debugEcho"];
    private static readonly string[] Components = ["os", "firmware", "k3s"];
    private static readonly string[] SlotBackends = ["rauc", "command"];
    private static readonly string[] Strategies = ["Rolling", "BlueGreen"];
    private static readonly string[] PatchOps = ["add", "remove", "replace", "move", "copy", "test"];
    private static readonly string[] Currencies = ["EUR", "USD", "GBP", "CHF", "JPY", "AUD", "CAD", "NZD", "ZAR", "BRL", "INR", "CNY"];

    public static FleetSettings? Fleet(FieldReader root, ObjectMeta meta)
    {
        var spec = root.Object("spec");
        var policies = PolicySettings.Default;
        var trust = TrustSettings.Default;
        var defaults = FleetDefaults.Default;
        if (spec is not null)
        {
            if (spec.Object("policies") is { } p)
            {
                var paths = p.Strings("paths");
                var builtIn = p.Strings("builtIn");
                var enforcement = p.Enum("enforcement", Enforcements) ?? "deny";
                var limits = p.Mapping("limits");
                var parameters = p.Mapping("parameters");
                p.Finish();
                policies = new PolicySettings(paths, builtIn, enforcement == "warn" ? Enforcement.Warn : Enforcement.Deny, limits, parameters);
            }

            if (spec.Object("trust") is { } t)
            {
                var signers = t.String("allowedSigners");
                var require = t.Bool("requireSignedRevisions") ?? (signers is not null);
                var sigstoreRevisions = false;
                var commitsLocation = signers?.Location ?? default;
                if (t.Object("commits") is { } commits)
                {
                    // The explicit form: spec.trust.commits {mode, allowedSigners}; the flat fields are its shorthand.
                    var mode = commits.Enum("mode", CommitModes, required: true);
                    var commitSigners = commits.String("allowedSigners");
                    commits.Finish();
                    if (signers is not null || t.Node["requireSignedRevisions"] is not null)
                    {
                        t.Error(commits.Node.Location, Codes.InvalidValue,
                            $"{t.Path("commits")} and the shorthand allowedSigners/requireSignedRevisions say the same thing; keep one");
                    }

                    switch (mode)
                    {
                        case "ssh" when commitSigners is null:
                            commits.Error(commits.Node.Location, Codes.MissingField, $"{commits.Path("allowedSigners")} is required when mode is ssh");
                            break;
                        case "unsigned" or "sigstore" when commitSigners is not null:
                            commits.Error(commitSigners.Location, Codes.InvalidValue, $"{commits.Path("allowedSigners")} has no effect when mode is {mode}");
                            break;
                    }

                    signers = mode == "ssh" ? commitSigners : null;
                    require = mode is "ssh" or "sigstore";
                    sigstoreRevisions = mode == "sigstore";
                    commitsLocation = commits.LocationOf("mode");
                }

                var identities = ImmutableArray.CreateBuilder<SigstoreIdentity>();
                Located<string>? trustedRoot = null;
                if (t.Object("sigstore") is { } s)
                {
                    trustedRoot = s.String("trustedRoot");
                    foreach (var id in s.Objects("identities"))
                    {
                        var issuer = id.String("issuer", required: true);
                        var subject = id.String("subject");
                        var subjectRegExp = id.String("subjectRegExp");
                        id.Finish();
                        if (subject is null == subjectRegExp is null)
                        {
                            id.Error(id.Node.Location, Codes.MissingField, $"{id.Context} needs exactly one of subject or subjectRegExp");
                            continue;
                        }

                        if (subjectRegExp is not null && !IsValidRegex(subjectRegExp.Value, out var why))
                        {
                            id.Error(subjectRegExp.Location, Codes.InvalidValue, $"{id.Path("subjectRegExp")} is not a valid regular expression: {why}");
                            continue;
                        }

                        if (issuer is not null)
                        {
                            identities.Add(new SigstoreIdentity(issuer.Value, (subject ?? subjectRegExp)!.Value, subjectRegExp is not null, id.Node.Location));
                        }
                    }

                    s.Finish();
                }

                t.Finish();
                if (sigstoreRevisions && identities.Count == 0)
                {
                    t.Error(commitsLocation, Codes.MissingField,
                        $"{t.Path("commits.mode")} sigstore needs {t.Path("sigstore.identities")}: the identities whose bundles may sign revisions");
                }

                trust = new TrustSettings(signers, identities.ToImmutable(), trustedRoot, require, sigstoreRevisions, commitsLocation);
            }

            if (spec.Object("defaults") is { } d)
            {
                defaults = new FleetDefaults(
                    d.Duration("syncInterval") ?? defaults.SyncInterval,
                    d.Duration("healthTimeout") ?? defaults.HealthTimeout,
                    CommonReaders.Rollout(d.Object("rollout")) ?? defaults.Rollout,
                    d.String("deviceNamespace")?.Value ?? defaults.DeviceNamespace);
                d.Finish();
            }

            spec.Finish();
        }

        root.Finish();
        return new FleetSettings(meta, root.Node.Location, policies, trust, defaults);
    }

    public static Cluster? Cluster(FieldReader root, ObjectMeta meta)
    {
        var spec = root.Object("spec");
        GeoPoint? location = null;
        ClusterCapacity? capacity = null;
        ClusterCost? cost = null;
        ClusterNetwork? network = null;
        var devices = ImmutableArray<DeviceCount>.Empty;
        MaintenanceWindow? window = null;
        var values = MappingNode.Empty;
        var apis = ImmutableArray<string>.Empty;
        Located<string>? reportKey = null;
        if (spec is not null)
        {
            reportKey = spec.String("reportKey");
            if (reportKey is not null && !IsEd25519PublicKey(reportKey.Value))
            {
                spec.Error(reportKey.Location, Codes.InvalidValue, $"{spec.Path("reportKey")} must be an OpenSSH Ed25519 public key line (ssh-ed25519 AAAA… [comment]), as ssh-keygen -t ed25519 writes it");
                reportKey = null;
            }

            location = CommonReaders.Point(spec.Object("location"));
            apis = [.. spec.Strings("apis").Select(a => a.Value)];
            if (spec.Object("capacity") is { } c)
            {
                capacity = new ClusterCapacity(c.Quantity("cpu"), c.Quantity("memory"), c.Quantity("storage"));
                c.Finish();
            }

            if (spec.Object("cost") is { } k)
            {
                cost = new ClusterCost(
                    k.Number("cpuHour", min: 0),
                    k.Number("memoryGiBHour", min: 0),
                    k.Number("egressGiB", min: 0),
                    k.Number("monthlyBudget", min: 0),
                    k.Enum("currency", Currencies) ?? "EUR");
                k.Finish();
            }

            if (spec.Object("network") is { } n)
            {
                network = new ClusterNetwork(n.Bool("metered") ?? false, n.Integer("bandwidthKbps", min: 1));
                n.Finish();
            }

            devices = CommonReaders.DeviceCounts(spec, "devices");
            window = CommonReaders.Window(spec.Object("maintenanceWindow"));
            values = spec.Mapping("values") ?? MappingNode.Empty;
            spec.Finish();
        }

        root.Finish();
        return new Cluster(meta, root.Node.Location, location, capacity, cost, network, devices, window, values) { Apis = apis, ReportKey = reportKey };
    }

    public static Workload? Workload(FieldReader root, ObjectMeta meta, string file)
    {
        var spec = root.Object("spec", required: true);
        if (spec is null)
        {
            root.Finish();
            return null;
        }

        var manifests = spec.Strings("manifests", required: true);
        if (spec.Node["manifests"] is SequenceNode { Count: 0 } empty)
        {
            spec.Error(empty.Location, Codes.MissingField, $"{spec.Path("manifests")} must list at least one file or folder");
        }

        var ns = spec.String("namespace");
        if (ns is not null && !Names.IsDnsLabel(ns.Value))
        {
            spec.Error(ns.Location, Codes.InvalidName, $"{spec.Path("namespace")} '{ns.Value}' must be a DNS-1123 label");
        }

        var placement = CommonReaders.Placement(spec.Object("placement"));
        var values = spec.Mapping("values") ?? MappingNode.Empty;
        var overlays = ImmutableArray.CreateBuilder<Overlay>();
        var overlayNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in spec.Objects("overlays"))
        {
            var name = o.String("name", required: true);
            var selector = CommonReaders.Selector(o.Object("clusterSelector", required: true));
            var patches = ImmutableArray.CreateBuilder<Patch>();
            foreach (var p in o.Objects("patches", required: true))
            {
                var patch = ReadPatch(p);
                if (patch is not null)
                {
                    patches.Add(patch);
                }
            }

            o.Finish();
            if (name is not null && !overlayNames.Add(name.Value))
            {
                o.Error(name.Location, Codes.DuplicateName, $"overlay '{name.Value}' is defined twice in workload '{meta.Name.Value}'");
            }

            if (name is not null && selector is not null)
            {
                overlays.Add(new Overlay(name.Value, selector, patches.ToImmutable(), o.Node.Location));
            }
        }

        var dependsOn = spec.Strings("dependsOn");
        var rollout = CommonReaders.Rollout(spec.Object("rollout"));
        UpgradeStrategy? strategy = null;
        if (spec.Object("upgradeStrategy") is { } u)
        {
            var type = u.Enum("type", Strategies, required: true) ?? "Rolling";
            var pre = u.Bool("preInitialize") ?? false;
            var retention = u.Duration("blueRetention");
            PreInitializedCondition? when = null;
            if (u.Object("preInitializedWhen") is { } w)
            {
                var annotation = w.String("annotation");
                var value = w.String("value");
                var container = w.String("containerReady");
                string? path = null;
                int? port = null;
                if (w.Object("httpGet") is { } h)
                {
                    path = h.String("path", required: true)?.Value;
                    port = (int?)h.Integer("port", required: true, min: 1, max: 65535);
                    h.Finish();
                }

                w.Finish();
                var given = (annotation is null ? 0 : 1) + (container is null ? 0 : 1) + (path is null ? 0 : 1);
                if (given != 1)
                {
                    w.Error(w.Node.Location, Codes.InvalidValue, $"{w.Context} needs exactly one of annotation, containerReady or httpGet");
                }
                else
                {
                    when = new PreInitializedCondition(annotation?.Value, value?.Value ?? "true", container?.Value, path, port);
                }
            }

            u.Finish();
            if (pre && type == "Rolling")
            {
                u.Error(u.LocationOf("preInitialize"), Codes.InvalidValue, $"{u.Path("preInitialize")} applies only to type BlueGreen");
            }

            if (!pre && (when is not null || retention is not null))
            {
                u.Error(u.Node.Location, Codes.InvalidValue, $"{u.Context}: preInitializedWhen and blueRetention apply only with preInitialize: true");
            }

            strategy = new UpgradeStrategy(Enum.Parse<UpgradeStrategyType>(type), pre, u.Node.Location, when, retention);
        }

        var requires = ReadRequirement(spec.Object("requires"));
        spec.Finish();
        root.Finish();
        return new Workload(meta, root.Node.Location, FleetFilesDirectory(file), manifests, [], ns?.Value, placement, values,
            overlays.ToImmutable(), dependsOn, rollout, strategy, requires);
    }

    public static DeviceConfig? DeviceConfig(FieldReader root, ObjectMeta meta)
    {
        var spec = root.Object("spec", required: true);
        if (spec is null)
        {
            root.Finish();
            return null;
        }

        var deviceClass = spec.String("deviceClass")?.Value ?? meta.Name.Value;
        if (!Names.IsDnsLabel(deviceClass))
        {
            spec.Error(spec.LocationOf("deviceClass"), Codes.InvalidName, $"{spec.Path("deviceClass")} '{deviceClass}' must be a DNS-1123 label");
        }

        var ns = spec.String("namespace");
        var placement = CommonReaders.Placement(spec.Object("placement"));
        Discovery? discovery = null;
        if (spec.Object("discovery", required: true) is { } d)
        {
            var handler = d.String("handler", required: true);
            var details = d.Mapping("details") ?? MappingNode.Empty;
            var shared = d.Bool("shared") ?? false;
            d.Finish();
            if (handler is not null)
            {
                if (!Handlers.Contains(handler.Value, StringComparer.Ordinal))
                {
                    d.Error(handler.Location, Codes.InvalidEnum,
                        $"{d.Path("handler")} must be one of {string.Join(", ", Handlers)}; found '{handler.Value}'{FieldReader.Suggest(handler.Value, Handlers)}");
                }
                else
                {
                    CheckDiscoveryDetails(handler.Value, details, d.Path("details"), d.Diagnostics);
                }

                discovery = new Discovery(handler, details, shared);
            }
        }

        var capacity = spec.Integer("capacity", min: 1, max: 1000) ?? 1;
        BrokerSpec? broker = null;
        if (spec.Object("broker") is { } b)
        {
            var pod = b.Mapping("pod");
            var job = b.Mapping("job");
            b.Finish();
            if (pod is not null && job is not null)
            {
                b.Error(b.Node.Location, Codes.InvalidValue, $"{b.Context} takes either pod or job, not both");
            }
            else if (pod is null && job is null)
            {
                b.Error(b.Node.Location, Codes.MissingField, $"{b.Context} needs a pod or a job spec");
            }
            else
            {
                broker = pod is not null ? new BrokerSpec("pod", pod) : new BrokerSpec("job", job!);
                if (pod is not null && pod["containers"] is not SequenceNode { Count: > 0 })
                {
                    b.Error(pod.Location, Codes.MissingField, $"{b.Path("pod")} needs at least one container");
                }
            }
        }

        MappingNode? instanceService = null;
        MappingNode? configurationService = null;
        if (spec.Object("services") is { } s)
        {
            instanceService = s.Mapping("instance");
            configurationService = s.Mapping("configuration");
            s.Finish();
        }

        var properties = spec.Mapping("brokerProperties");
        if (properties is not null)
        {
            foreach (var (key, value) in properties.Entries)
            {
                if (value is not ScalarNode { IsNull: false })
                {
                    spec.Error(value.Location, Codes.WrongType, $"{spec.Path("brokerProperties")}.{key.Value} must be a scalar");
                }
            }
        }

        spec.Finish();
        root.Finish();
        return discovery is null
            ? null
            : new DeviceConfig(meta, root.Node.Location, deviceClass, ns?.Value, placement, discovery, (int)capacity, broker,
                instanceService, configurationService, properties);
    }

    public static UpgradePlan? UpgradePlan(FieldReader root, ObjectMeta meta)
    {
        var spec = root.Object("spec", required: true);
        if (spec is null)
        {
            root.Finish();
            return null;
        }

        var component = spec.Enum("component", Components, required: true);
        var version = spec.String("version", required: true);
        var placement = CommonReaders.Placement(spec.Object("placement"));
        Artifact? artifact = null;
        if (spec.Object("artifact", required: true) is { } a)
        {
            var url = a.String("url", required: true);
            var digest = a.String("digest", required: true);
            var size = a.Integer("size", min: 1);
            var bundle = a.String("bundle");
            a.Finish();
            if (url is not null && (!Uri.TryCreate(url.Value, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http" or "oci" or "file")))
            {
                a.Error(url.Location, Codes.InvalidValue, $"{a.Path("url")} '{url.Value}' must be an absolute https, http, oci or file URL");
            }

            if (digest is not null && !DigestPattern().IsMatch(digest.Value))
            {
                a.Error(digest.Location, Codes.InvalidValue, $"{a.Path("digest")} must be sha256:<64 lowercase hex digits> or sha512:<128>; found '{digest.Value}'");
            }

            if (url is not null && digest is not null)
            {
                artifact = new Artifact(url, digest, size, bundle);
            }
        }

        SlotSpec slots = new("rauc", null, spec.Node.Location);
        if (spec.Object("slots") is { } s)
        {
            var backend = s.Enum("backend", SlotBackends, required: true) ?? "rauc";
            var device = s.String("device");
            s.Finish();
            slots = new SlotSpec(backend, device?.Value, s.Node.Location);
        }

        var checks = ImmutableArray.CreateBuilder<HealthCheck>();
        var checkNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var h in spec.Objects("healthChecks"))
        {
            var name = h.String("name", required: true);
            var timeout = h.Duration("timeout") ?? TimeSpan.FromMinutes(2);
            var http = h.Object("http");
            var exec = h.Object("exec");
            var kube = h.Object("kubernetes");
            HealthCheck? check = null;
            if (http is not null && name is not null)
            {
                var url = http.String("url", required: true);
                var status = http.Integer("expectStatus", min: 100, max: 599) ?? 200;
                http.Finish();
                if (url is not null && (!Uri.TryCreate(url.Value, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")))
                {
                    http.Error(url.Location, Codes.InvalidValue, $"{http.Path("url")} '{url.Value}' must be an absolute http or https URL");
                }

                check = new HealthCheck(name.Value, "http", timeout, h.Node.Location, Url: url?.Value, ExpectStatus: (int)status);
            }
            else if (exec is not null && name is not null)
            {
                var command = exec.Strings("command", required: true);
                exec.Finish();
                check = new HealthCheck(name.Value, "exec", timeout, h.Node.Location, Command: [.. command.Select(c => c.Value)]);
            }
            else if (kube is not null && name is not null)
            {
                var nodeReady = kube.Bool("nodeReady") ?? false;
                var workloads = kube.Bool("workloadsHealthy") ?? false;
                kube.Finish();
                if (!nodeReady && !workloads)
                {
                    kube.Error(kube.Node.Location, Codes.InvalidValue, $"{kube.Context} checks nothing: set nodeReady and/or workloadsHealthy");
                }

                check = new HealthCheck(name.Value, "kubernetes", timeout, h.Node.Location, NodeReady: nodeReady, WorkloadsHealthy: workloads);
            }

            h.Finish();
            if (new[] { http, exec, kube }.Count(k => k is not null) != 1)
            {
                h.Error(h.Node.Location, Codes.InvalidValue, $"{h.Context} needs exactly one of http, exec or kubernetes");
                continue;
            }

            if (name is not null && check is not null)
            {
                if (!checkNames.Add(name.Value))
                {
                    h.Error(name.Location, Codes.DuplicateName, $"health check '{name.Value}' is defined twice");
                }

                checks.Add(check);
            }
        }

        DownloadSpec? download = null;
        if (spec.Object("download") is { } d)
        {
            var maxKbps = d.Integer("maxKbps", min: 1);
            var retries = d.Integer("retries", min: 0, max: 100);
            d.Finish();
            download = new DownloadSpec(maxKbps, (int)(retries ?? DownloadSpec.Default.Retries));
        }

        var commitAfter = spec.Duration("commitAfter") ?? TimeSpan.FromMinutes(10);
        var rollout = CommonReaders.Rollout(spec.Object("rollout"));
        var respect = spec.Bool("respectMaintenanceWindow") ?? true;
        spec.Finish();
        root.Finish();
        if (component is null || version is null || artifact is null)
        {
            return null;
        }

        return new UpgradePlan(meta, root.Node.Location, Enum.Parse<UpgradeComponent>(component, ignoreCase: true), version.Value, placement,
            artifact, slots, checks.ToImmutable(), commitAfter, rollout, respect, download);
    }

    /// <summary>"ssh-ed25519 BASE64 [comment]" whose blob is the key type and a 32-byte key.</summary>
    private static bool IsEd25519PublicKey(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || parts[0] != "ssh-ed25519")
        {
            return false;
        }

        var blob = new byte[parts[1].Length];
        return Convert.TryFromBase64String(parts[1], blob, out var length)
            && length == 51
            && blob.AsSpan(4, 11).SequenceEqual("ssh-ed25519"u8);
    }

    private static ComponentRequirement? ReadRequirement(FieldReader? r)
    {
        if (r is null)
        {
            return null;
        }

        var component = r.Enum("component", Components, required: true);
        var version = r.String("version", required: true);
        r.Finish();
        if (component is null || version is null)
        {
            return null;
        }

        if (!VersionConstraint.TryParse(version.Value, out var constraint))
        {
            r.Error(version.Location, Codes.InvalidValue, $"{r.Path("version")} '{version.Value}' must be a version with an optional operator (>=, >, <=, <, =), e.g. \">=2026.11\"");
            return null;
        }

        return new ComponentRequirement(Enum.Parse<UpgradeComponent>(component, ignoreCase: true), constraint!, r.Node.Location);
    }

    private static Patch? ReadPatch(FieldReader p)
    {
        PatchTarget target;
        if (p.Object("target", required: true) is { } t)
        {
            target = new PatchTarget(t.String("group")?.Value, t.String("version")?.Value, t.String("kind")?.Value, t.String("name")?.Value,
                t.String("namespace")?.Value, t.Node.Location);
            t.Finish();
        }
        else
        {
            p.Finish();
            return null;
        }

        var merge = p.Raw("merge");
        var json = p.Raw("json");
        p.Finish();
        if (merge is not null == json is not null)
        {
            p.Error(p.Node.Location, Codes.InvalidValue, $"{p.Context} needs exactly one of merge (RFC 7386) or json (RFC 6902)");
            return null;
        }

        if (merge is not null)
        {
            if (merge is not MappingNode)
            {
                p.Error(merge.Location, Codes.WrongType, $"{p.Path("merge")} must be a mapping");
                return null;
            }

            return new Patch(target, PatchType.Merge, merge, p.Node.Location);
        }

        if (json is not SequenceNode ops)
        {
            p.Error(json!.Location, Codes.WrongType, $"{p.Path("json")} must be a list of operations");
            return null;
        }

        var ok = true;
        for (var i = 0; i < ops.Count; i++)
        {
            var op = FieldReader.For(ops[i], $"{p.Path("json")}[{i}]", p.Diagnostics, ops.Location, required: true);
            if (op is null)
            {
                ok = false;
                continue;
            }

            var kind = op.Enum("op", PatchOps, required: true);
            var path = op.String("path", required: true);
            var from = op.String("from");
            var hasValue = op.Node["value"] is not null;
            op.Raw("value");
            op.Finish();
            if (kind is null || path is null)
            {
                ok = false;
                continue;
            }

            if (path.Value.Length > 0 && path.Value[0] != '/')
            {
                op.Error(path.Location, Codes.InvalidValue, $"{op.Path("path")} '{path.Value}' is not a JSON pointer (it must start with '/')");
                ok = false;
            }

            if (kind is "add" or "replace" or "test" && !hasValue)
            {
                op.Error(op.Node.Location, Codes.MissingField, $"{op.Context}: op {kind} needs a value");
                ok = false;
            }

            if (kind is "move" or "copy" && from is null)
            {
                op.Error(op.Node.Location, Codes.MissingField, $"{op.Context}: op {kind} needs from");
                ok = false;
            }
        }

        return ok ? new Patch(target, PatchType.Json, ops, p.Node.Location) : null;
    }

    private static void CheckDiscoveryDetails(string handler, MappingNode details, string context, DiagnosticBag diagnostics)
    {
        string[] allowed = handler switch
        {
            "udev" => ["udevRules", "groupRecursive", "permissions"],
            "onvif" => ["ipAddresses", "macAddresses", "scopes", "uuids", "discoveryTimeoutSeconds"],
            "opcua" => ["opcuaDiscoveryMethod", "applicationNames"],
            _ => ["descriptions"],
        };
        foreach (var (key, _) in details.Entries)
        {
            if (!allowed.Contains(key.Value, StringComparer.Ordinal))
            {
                diagnostics.Error(key.Location, Codes.UnknownField,
                    $"unknown field '{key.Value}' in {context} for handler {handler}{FieldReader.Suggest(key.Value, allowed)}");
            }
        }

        if (handler == "udev" && details["udevRules"] is not SequenceNode { Count: > 0 })
        {
            diagnostics.Error(details["udevRules"]?.Location ?? details.Location, Codes.MissingField,
                $"{context}.udevRules must list at least one udev rule for the udev handler");
        }
    }

    private static bool IsValidRegex(string pattern, out string why)
    {
        why = string.Empty;
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return true;
        }
        catch (ArgumentException ex)
        {
            why = ex.Message;
            return false;
        }
    }

    private static string FleetFilesDirectory(string file) => Sources.FleetFiles.DirectoryOf(file);

    [GeneratedRegex("^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})\\z")]
    private static partial Regex DigestPattern();
}

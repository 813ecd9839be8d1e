using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Sources;

namespace EdgeOps.Fleet.Loading;

/// <summary>Checks that every name and path one object uses refers to something that exists.</summary>
internal static class ReferenceChecks
{
    public static void Run(FleetModel fleet, FleetFiles files, DiagnosticBag diagnostics)
    {
        CheckDependencies(fleet, diagnostics);
        CheckDeviceClasses(fleet, diagnostics);
        CheckFiles(fleet, files, diagnostics);
    }

    private static void CheckDependencies(FleetModel fleet, DiagnosticBag diagnostics)
    {
        var byName = fleet.Workloads.ToDictionary(w => w.Name, StringComparer.Ordinal);
        foreach (var workload in fleet.Workloads)
        {
            foreach (var dependency in workload.DependsOn)
            {
                if (dependency.Value == workload.Name)
                {
                    diagnostics.Error(dependency.Location, Codes.DependencyCycle, $"workload '{workload.Name}' depends on itself");
                }
                else if (!byName.ContainsKey(dependency.Value))
                {
                    diagnostics.Error(dependency.Location, Codes.UnknownDependency,
                        $"dependsOn names workload '{dependency.Value}', which does not exist{FieldReader.Suggest(dependency.Value, byName.Keys)}");
                }
            }
        }

        // Depth-first search for cycles; each cycle is reported once, at its first member in name order.
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new List<string>();
        var reported = new HashSet<string>(StringComparer.Ordinal);

        void Visit(Workload workload)
        {
            state[workload.Name] = 1;
            stack.Add(workload.Name);
            foreach (var dependency in workload.DependsOn)
            {
                if (dependency.Value == workload.Name || !byName.TryGetValue(dependency.Value, out var next))
                {
                    continue;
                }

                if (state.GetValueOrDefault(next.Name) == 1)
                {
                    var cycle = stack.Skip(stack.IndexOf(next.Name)).Append(next.Name).ToList();
                    var key = string.Join(",", cycle.Skip(1).Order(StringComparer.Ordinal));
                    if (reported.Add(key))
                    {
                        diagnostics.Error(dependency.Location, Codes.DependencyCycle, $"dependsOn forms a cycle: {string.Join(" -> ", cycle)}");
                    }
                }
                else if (state.GetValueOrDefault(next.Name) == 0)
                {
                    Visit(next);
                }
            }

            stack.RemoveAt(stack.Count - 1);
            state[workload.Name] = 2;
        }

        foreach (var workload in fleet.Workloads)
        {
            if (state.GetValueOrDefault(workload.Name) == 0)
            {
                Visit(workload);
            }
        }
    }

    private static void CheckDeviceClasses(FleetModel fleet, DiagnosticBag diagnostics)
    {
        var classes = new HashSet<string>(fleet.DeviceConfigs.Select(d => d.DeviceClass), StringComparer.Ordinal);
        void Check(DeviceCount device, string owner)
        {
            if (!classes.Contains(device.Class.Value))
            {
                diagnostics.Error(device.Class.Location, Codes.UnknownDeviceClass,
                    $"{owner} uses device class '{device.Class.Value}', which no DeviceConfig defines{FieldReader.Suggest(device.Class.Value, classes)}");
            }
        }

        foreach (var cluster in fleet.Clusters)
        {
            foreach (var device in cluster.Devices)
            {
                Check(device, $"Cluster '{cluster.Name}'");
            }
        }

        foreach (var workload in fleet.Workloads)
        {
            foreach (var device in workload.Placement.RequiredDevices)
            {
                Check(device, $"Workload '{workload.Name}'");
            }
        }

        foreach (var plan in fleet.UpgradePlans)
        {
            foreach (var device in plan.Placement.RequiredDevices)
            {
                Check(device, $"UpgradePlan '{plan.Name}'");
            }
        }

        foreach (var config in fleet.DeviceConfigs)
        {
            foreach (var device in config.Placement.RequiredDevices)
            {
                Check(device, $"DeviceConfig '{config.Name}'");
            }
        }

        foreach (var group in fleet.DeviceConfigs.GroupBy(d => d.DeviceClass, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            var first = group.First();
            foreach (var other in group.Skip(1))
            {
                diagnostics.Error(other.Metadata.Name.Location, Codes.DuplicateName,
                    $"device class '{group.Key}' is already defined by DeviceConfig '{first.Name}' at {first.Metadata.Name.Location}");
            }
        }
    }

    private static void CheckFiles(FleetModel fleet, FleetFiles files, DiagnosticBag diagnostics)
    {
        void Exists(Located<string>? path, string what, bool folderAllowed = false)
        {
            if (path is null)
            {
                return;
            }

            var entry = files.Resolve(path.Value, out var error);
            if (entry is null)
            {
                var code = error!.Contains("outside", StringComparison.Ordinal) ? Codes.SymlinkOutsideRepo : Codes.FileNotFound;
                diagnostics.Error(path.Location, code, $"{what} '{path.Value}' {error}");
            }
            else if (entry.Kind == FleetEntryKind.Directory && !folderAllowed)
            {
                diagnostics.Error(path.Location, Codes.FileNotFound, $"{what} '{path.Value}' is a folder, not a file");
            }
        }

        var trust = fleet.Settings.Trust;
        Exists(trust.AllowedSigners, "trust.allowedSigners");
        Exists(trust.TrustedRoot, "trust.sigstore.trustedRoot");
        foreach (var path in fleet.Settings.Policies.Paths)
        {
            Exists(path, "policies.paths entry", folderAllowed: true);
        }

        foreach (var plan in fleet.UpgradePlans)
        {
            Exists(plan.Artifact.Bundle, "artifact.bundle");
        }
    }
}

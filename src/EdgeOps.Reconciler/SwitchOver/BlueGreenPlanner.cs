using System.Collections.Immutable;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Reconciler.SwitchOver;

/// <summary>
/// Turns the rendered objects of each BlueGreen (pre-initialised) workload into two slots: every Deployment or
/// StatefulSet <c>D</c> becomes <c>D-blue</c> and/or <c>D-green</c> (pod label <c>edgeops.io/slot</c>), and every
/// Service of the workload selects the slot its record says it serves. The active slot keeps the bodies it was
/// switched to; a changed rendering starts a switch (<see cref="PendingSwitch"/>) whose target slot gets the new
/// bodies — without exclusive devices until the handoff. Everything else passes through unchanged.
/// </summary>
public static class BlueGreenPlanner
{
    public const string SlotLabel = "edgeops.io/slot";
    public const string ReleaseDevicesAnnotation = "edgeops.io/release-devices";
    private static readonly string[] SlotKinds = ["Deployment", "StatefulSet"];

    /// <summary>The workloads of a fleet that switch over.</summary>
    public static IEnumerable<Workload> SwitchOverWorkloads(FleetModel fleet) => fleet.Workloads.Where(w => w.UpgradeStrategy?.IsSwitchOver == true);

    public static IReadOnlyList<RenderedObject> Plan(IReadOnlyList<RenderedObject> desired, FleetModel fleet, SwitchOverStore store, DateTimeOffset now, bool startSwitches)
    {
        var result = desired.ToList();
        foreach (var workload in SwitchOverWorkloads(fleet))
        {
            var mine = result.Where(o => o.OwnerKind == FleetApi.WorkloadKind && o.Owner == workload.Name).ToList();
            var slotted = mine.Where(o => SlotKinds.Contains(o.Id.Kind)).ToList();
            if (slotted.Count == 0)
            {
                continue;
            }

            var rendered = slotted.ToImmutableSortedDictionary(o => o.Id.Name, o => JsonText.Write(o.Body), StringComparer.Ordinal);
            var record = store.Get(workload.Name) ?? new SwitchOverRecord { Workload = workload.Name, ActiveBodies = rendered };
            if (record.Pending is null && startSwitches && !record.ActiveBodies.SequenceEqual(rendered))
            {
                record = record with { Pending = new PendingSwitch { To = SwitchOverRecord.Other(record.Active), Bodies = rendered, Started = now } };
            }

            store.Set(record);
            var template = slotted[0];
            result.RemoveAll(o => mine.Contains(o) && SlotKinds.Contains(o.Id.Kind));
            // Only a switch that hands exclusive devices over releases the active slot before the Services move.
            var releasing = record.Pending is { Step: >= SwitchStep.Handoff, HandoffStarted: not null };
            foreach (var (name, body) in record.ActiveBodies)
            {
                result.Add(Slot(template, body, record.Active, releasing ? 0 : null, stripDevices: false, release: releasing, fleet));
            }

            if (record.Pending is { } pending)
            {
                var exclusive = !pending.DevicesReleased;
                foreach (var (_, body) in pending.Bodies)
                {
                    result.Add(Slot(template, body, pending.To, null, stripDevices: exclusive, release: false, fleet));
                }
            }
            else if (record.RetainedBodies is { } retained)
            {
                var warm = record.RetainUntil is { } until && now < until;
                foreach (var (_, body) in retained)
                {
                    result.Add(Slot(template, body, SwitchOverRecord.Other(record.Active), warm ? null : 0, stripDevices: true, release: !warm, fleet));
                }
            }

            for (var i = 0; i < result.Count; i++)
            {
                if (result[i].OwnerKind == FleetApi.WorkloadKind && result[i].Owner == workload.Name && result[i].Id.Kind == "Service")
                {
                    result[i] = Select(result[i], record.Serving);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// True when a body's containers ask for an exclusive device: an Akri resource (<c>akri.sh/NAME</c>) whose
    /// DeviceConfig NAME has capacity 1, or one the fleet does not describe (assumed exclusive). A shared device
    /// (capacity above 1) is used by both slots at once and needs no handoff.
    /// </summary>
    public static bool HoldsDevices(string body, FleetModel fleet) =>
        Containers(JsonNode.Parse(body)!.AsObject()).Any(c => Resources(c).Any(r => IsExclusive(r.Key, fleet)));

    private static bool IsExclusive(string resource, FleetModel fleet) =>
        resource.StartsWith("akri.sh/", StringComparison.Ordinal)
        && fleet.DeviceConfigs.FirstOrDefault(d => d.Name == resource["akri.sh/".Length..]) is not { Capacity: > 1 };

    public static string SlotName(string name, string slot) => $"{name}-{slot}";

    private static RenderedObject Slot(RenderedObject template, string body, string slot, int? replicas, bool stripDevices, bool release, FleetModel fleet)
    {
        // The body is a manifest from the repo, of any shape the loader lets through (it does not know Kubernetes' schemas):
        // what is not where a Deployment has it is left as it is, for the API server to refuse in words.
        var json = JsonNode.Parse(body)!.AsObject();
        var metadata = json["metadata"]!.AsObject(); // every rendered object has metadata.name
        var name = metadata["name"]!.GetValue<string>();
        metadata["name"] = SlotName(name, slot);
        if (json["spec"] is JsonObject spec)
        {
            if (replicas is { } count)
            {
                spec["replicas"] = count;
            }

            if (Child(spec, "selector") is { } selector && Child(selector, "matchLabels") is { } matchLabels)
            {
                matchLabels[SlotLabel] = slot;
            }

            if (spec["template"] is JsonObject podTemplate)
            {
                var podMetadata = Child(podTemplate, "metadata");
                if (podMetadata is not null && Child(podMetadata, "labels") is { } labels)
                {
                    labels[SlotLabel] = slot;
                }

                if (release && podMetadata is not null && Child(podMetadata, "annotations") is { } annotations)
                {
                    annotations[ReleaseDevicesAnnotation] = "true";
                }
            }
        }

        if (stripDevices)
        {
            foreach (var container in Containers(json))
            {
                foreach (var part in new[] { "requests", "limits" })
                {
                    if ((container["resources"] as JsonObject)?[part] is JsonObject values)
                    {
                        foreach (var key in values.Select(v => v.Key).Where(k => IsExclusive(k, fleet)).ToList())
                        {
                            values.Remove(key);
                        }
                    }
                }
            }
        }

        var node = (MappingNode)YamlReader.ReadDocuments("switch-over", json.ToJsonString(), new DiagnosticBag())[0]!;
        return template with { Id = template.Id with { Kind = json["kind"]!.GetValue<string>(), Name = SlotName(name, slot) }, Body = node };
    }

    private static RenderedObject Select(RenderedObject service, string slot)
    {
        var json = JsonNode.Parse(JsonText.Write(service.Body))!.AsObject();
        if ((json["spec"] ??= new JsonObject()) is JsonObject spec && Child(spec, "selector") is { } selector)
        {
            selector[SlotLabel] = slot;
        }

        return service with { Body = (MappingNode)YamlReader.ReadDocuments("switch-over", json.ToJsonString(), new DiagnosticBag())[0]! };
    }

    /// <summary>The object under <paramref name="key"/>, made when missing; null when something else is there.</summary>
    private static JsonObject? Child(JsonObject parent, string key)
    {
        parent[key] ??= new JsonObject();
        return parent[key] as JsonObject;
    }

    private static IEnumerable<JsonObject> Containers(JsonObject workload) =>
        (((workload["spec"] as JsonObject)?["template"] as JsonObject)?["spec"] as JsonObject)?["containers"] is JsonArray containers
            ? containers.OfType<JsonObject>()
            : [];

    private static IEnumerable<KeyValuePair<string, JsonNode?>> Resources(JsonObject container) =>
        new[] { "requests", "limits" }.SelectMany(p => (container["resources"] as JsonObject)?[p] as JsonObject ?? []);
}

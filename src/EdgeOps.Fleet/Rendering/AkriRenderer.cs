using System.Collections.Immutable;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Rendering;

/// <summary>Renders a DeviceConfig into an Akri <c>akri.sh/v0</c> Configuration.</summary>
public static class AkriRenderer
{
    public const string ApiVersion = "akri.sh/v0";
    public const string Kind = "Configuration";

    public static MappingNode Render(DeviceConfig config, FleetSettings fleet)
    {
        var at = config.Location;
        var ns = config.Namespace ?? fleet.Defaults.DeviceNamespace;

        var handler = Map(at,
            ("name", Str(config.Discovery.Handler.Value, config.Discovery.Handler.Location)),
            ("discoveryDetails", Str(config.Discovery.Details.Count == 0 ? string.Empty : YamlText.Write(config.Discovery.Details), config.Discovery.Details.Location)));
        if (config.Discovery.Shared)
        {
            handler = handler.With("shared", ScalarNode.Bool(true, at));
        }

        var spec = Map(at, ("discoveryHandler", handler), ("capacity", ScalarNode.Int(config.Capacity, at)));
        if (config.Broker is { } broker)
        {
            spec = spec.With("brokerSpec", Map(broker.Spec.Location, (broker.Type == "pod" ? "brokerPodSpec" : "brokerJobSpec", broker.Spec)));
        }

        if (config.InstanceService is { } instance)
        {
            spec = spec.With("instanceServiceSpec", instance);
        }

        if (config.ConfigurationService is { } configuration)
        {
            spec = spec.With("configurationServiceSpec", configuration);
        }

        spec = spec.With("brokerProperties", config.BrokerProperties ?? new MappingNode([], at));

        var labels = Map(at,
            (FleetApi.DeviceConfigLabel, Str(config.Name, at)),
            (FleetApi.FleetLabel, Str(fleet.Name, at)));
        var metadata = Map(at, ("name", Str(config.Name, config.Metadata.Name.Location)), ("namespace", Str(ns, at)), ("labels", labels));
        return Map(at, ("apiVersion", Str(ApiVersion, at)), ("kind", Str(Kind, at)), ("metadata", metadata), ("spec", spec));
    }

    private static ScalarNode Str(string value, SourceLocation at) => ScalarNode.String(value, at);

    private static MappingNode Map(SourceLocation at, params (string Key, Node Value)[] entries) =>
        new([.. entries.Select(e => new KeyValuePair<ScalarNode, Node>(ScalarNode.String(e.Key, at), e.Value))], at);
}

using System.Collections.Immutable;
using Cronos;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Fleet.Loading;

/// <summary>Readers for the structures several kinds share: metadata, selectors, placement, geometry.</summary>
internal static class CommonReaders
{
    private static readonly string[] Operators = ["In", "NotIn", "Exists", "DoesNotExist"];

    public static ObjectMeta? Metadata(FieldReader root, string kind)
    {
        var meta = root.Object("metadata", required: true);
        if (meta is null)
        {
            return null;
        }

        var name = meta.String("name", required: true);
        meta.Raw("annotations");
        var labels = meta.StringMap("labels");
        var labelsNode = meta.Node["labels"];
        meta.Finish();
        if (name is null)
        {
            return null;
        }

        if (!Names.IsDnsLabel(name.Value))
        {
            root.Error(name.Location, Codes.InvalidName,
                $"{kind} name '{name.Value}' must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit");
        }

        if (labelsNode is MappingNode labelMap)
        {
            CheckLabels(labelMap, "metadata.labels", root.Diagnostics);
        }

        return new ObjectMeta(name, labels, labelsNode?.Location ?? meta.Node.Location);
    }

    public static void CheckLabels(MappingNode labels, string context, DiagnosticBag diagnostics)
    {
        foreach (var (key, value) in labels.Entries)
        {
            if (Names.CheckLabelKey(key.Value) is { } keyProblem)
            {
                diagnostics.Error(key.Location, Codes.InvalidLabel, $"{context} key '{key.Value}': {keyProblem}");
            }

            if (value is ScalarNode { Kind: ScalarKind.String } s && Names.CheckLabelValue(s.Value) is { } valueProblem)
            {
                diagnostics.Error(s.Location, Codes.InvalidLabel, $"{context}.{key.Value} value '{s.Value}' {valueProblem}");
            }
        }
    }

    public static LabelSelector? Selector(FieldReader? reader)
    {
        if (reader is null)
        {
            return null;
        }

        var labelsNode = reader.Node["matchLabels"];
        var matchLabels = reader.StringMap("matchLabels");
        if (labelsNode is MappingNode labelMap)
        {
            CheckLabels(labelMap, reader.Path("matchLabels"), reader.Diagnostics);
        }

        var expressions = ImmutableArray.CreateBuilder<SelectorRequirement>();
        foreach (var expr in reader.Objects("matchExpressions"))
        {
            var key = expr.String("key", required: true);
            var op = expr.Enum("operator", Operators, required: true);
            var valuesNode = expr.Node["values"];
            var values = expr.Strings("values");
            expr.Finish();
            if (key is null || op is null)
            {
                continue;
            }

            if (Names.CheckLabelKey(key.Value) is { } problem)
            {
                reader.Error(key.Location, Codes.InvalidSelector, $"{expr.Context}.key '{key.Value}': {problem}");
            }

            var parsed = System.Enum.Parse<SelectorOperator>(op);
            if (parsed is SelectorOperator.In or SelectorOperator.NotIn && values.IsEmpty)
            {
                reader.Error(valuesNode?.Location ?? expr.Node.Location, Codes.InvalidSelector,
                    $"{expr.Context}: operator {op} needs a non-empty values list");
            }
            else if (parsed is SelectorOperator.Exists or SelectorOperator.DoesNotExist && !values.IsEmpty)
            {
                reader.Error(valuesNode!.Location, Codes.InvalidSelector,
                    $"{expr.Context}: operator {op} takes no values");
            }

            expressions.Add(new SelectorRequirement(key.Value, parsed, [.. values.Select(v => v.Value)]));
        }

        reader.Finish();
        return new LabelSelector(matchLabels, expressions.ToImmutable(), reader.Node.Location);
    }

    public static GeoPoint? Point(FieldReader? reader)
    {
        if (reader is null)
        {
            return null;
        }

        var lat = reader.Number("lat", required: true);
        var lon = reader.Number("lon", required: true);
        reader.Finish();
        if (lat is null || lon is null)
        {
            return null;
        }

        var ok = true;
        if (lat is < -90 or > 90)
        {
            reader.Error(reader.LocationOf("lat"), Codes.CoordinateOutOfRange, $"{reader.Path("lat")} {lat} is outside -90..90");
            ok = false;
        }

        if (lon is < -180 or > 180)
        {
            reader.Error(reader.LocationOf("lon"), Codes.CoordinateOutOfRange, $"{reader.Path("lon")} {lon} is outside -180..180");
            ok = false;
        }

        return ok ? new GeoPoint(lat.Value, lon.Value) : null;
    }

    public static Placement Placement(FieldReader? reader)
    {
        if (reader is null)
        {
            return Model.Placement.Everywhere;
        }

        var selector = Selector(reader.Object("clusterSelector"));
        GeoCircle? within = null;
        GeoFence? fence = null;
        double? margin = null;
        TimeSpan? dwell = null;
        var location = reader.Object("location");
        if (location is not null)
        {
            var w = location.Object("within");
            if (w is not null)
            {
                var lat = w.Number("lat", required: true);
                var lon = w.Number("lon", required: true);
                var radius = w.Number("radiusKm", required: true);
                w.Finish();
                if (lat is < -90 or > 90)
                {
                    w.Error(w.LocationOf("lat"), Codes.CoordinateOutOfRange, $"{w.Path("lat")} {lat} is outside -90..90");
                }
                else if (lon is < -180 or > 180)
                {
                    w.Error(w.LocationOf("lon"), Codes.CoordinateOutOfRange, $"{w.Path("lon")} {lon} is outside -180..180");
                }
                else if (radius is <= 0)
                {
                    w.Error(w.LocationOf("radiusKm"), Codes.InvalidValue, $"{w.Path("radiusKm")} must be greater than 0");
                }
                else if (lat is not null && lon is not null && radius is not null)
                {
                    within = new GeoCircle(new GeoPoint(lat.Value, lon.Value), radius.Value, w.Node.Location);
                }
            }

            var fenceNode = location.Raw("geofence");
            if (fenceNode is not null)
            {
                fence = GeoJson.ReadFence(fenceNode, location.Path("geofence"), reader.Diagnostics);
            }

            margin = location.Number("margin");
            if (margin is < 0)
            {
                location.Error(location.LocationOf("margin"), Codes.InvalidValue, $"{location.Path("margin")} (metres) must not be negative");
                margin = null;
            }

            dwell = location.Duration("dwell");
            location.Finish();
        }

        var requires = reader.Object("requires");
        var devices = ImmutableArray<DeviceCount>.Empty;
        if (requires is not null)
        {
            devices = DeviceCounts(requires, "devices");
            requires.Finish();
        }

        reader.Finish();
        return new Placement(selector, within, fence, devices, reader.Node.Location, margin, dwell);
    }

    public static ImmutableArray<DeviceCount> DeviceCounts(FieldReader reader, string key)
    {
        var builder = ImmutableArray.CreateBuilder<DeviceCount>();
        foreach (var item in reader.Objects(key))
        {
            var cls = item.String("class", required: true);
            var count = item.Integer("count", min: 1) ?? 1;
            item.Finish();
            if (cls is not null)
            {
                builder.Add(new DeviceCount(cls, (int)Math.Min(count, int.MaxValue)));
            }
        }

        return builder.ToImmutable();
    }

    public static MaintenanceWindow? Window(FieldReader? reader)
    {
        if (reader is null)
        {
            return null;
        }

        var schedule = reader.String("schedule", required: true);
        var duration = reader.Duration("duration", required: true);
        var timeZone = reader.String("timeZone") ?? new Located<string>("UTC", reader.Node.Location);
        reader.Finish();
        var ok = schedule is not null && duration is not null;
        if (schedule is not null && !IsValidCron(schedule.Value, out var cronError))
        {
            reader.Error(schedule.Location, Codes.InvalidCron, $"{reader.Path("schedule")} '{schedule.Value}' is not a valid cron expression: {cronError}");
            ok = false;
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZone.Value, out _))
        {
            reader.Error(timeZone.Location, Codes.UnknownTimeZone,
                $"{reader.Path("timeZone")} '{timeZone.Value}' is not a known IANA time zone (such as Europe/Madrid)");
            ok = false;
        }

        if (duration is { } d && d <= TimeSpan.Zero)
        {
            reader.Error(reader.LocationOf("duration"), Codes.InvalidDuration, $"{reader.Path("duration")} must be positive");
            ok = false;
        }

        return ok ? new MaintenanceWindow(schedule!, duration!.Value, timeZone) : null;
    }

    public static bool IsValidCron(string expression, out string error)
    {
        error = string.Empty;
        try
        {
            var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            var parsed = CronExpression.Parse(expression, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);

            // Valid syntax that no date satisfies (February 30, April 31): a window that never opens, and a cluster
            // that respects it would wait for ever without a word.
            if (parsed.GetNextOccurrence(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc)) is null)
            {
                error = "no date matches it (such as February 30), so the window would never open";
                return false;
            }

            return true;
        }
        catch (CronFormatException ex)
        {
            error = ex.Message.TrimEnd('.');
            if (error.Length > 0)
            {
                error = char.ToLowerInvariant(error[0]) + error[1..];
            }

            return false;
        }
    }

    public static RolloutSpec? Rollout(FieldReader? reader)
    {
        if (reader is null)
        {
            return null;
        }

        var maxUnavailable = reader.Integer("maxUnavailablePercent", min: 1, max: 100) ?? 100;
        var waves = ImmutableArray.CreateBuilder<RolloutWave>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var wave in reader.Objects("waves"))
        {
            var name = wave.String("name", required: true);
            var selector = Selector(wave.Object("clusterSelector")) ?? LabelSelector.Everything;
            var waveMax = wave.Integer("maxUnavailablePercent", min: 1, max: 100);
            var pause = wave.Duration("pause");
            var gate = wave.Enum("gate", ["health", "time"]) == "time" ? RolloutGateKind.Time : RolloutGateKind.Health;
            var waveFailures = FailureBudget(wave, "maxFailures");
            if (gate == RolloutGateKind.Time && pause is null && name is not null)
            {
                wave.Error(name.Location, Codes.InvalidValue, $"rollout wave '{name.Value}' has gate: time but no pause; a time gate opens the wave a pause after the previous one");
            }

            wave.Finish();
            if (name is null)
            {
                continue;
            }

            if (!names.Add(name.Value))
            {
                wave.Error(name.Location, Codes.DuplicateName, $"rollout wave '{name.Value}' is defined twice");
            }

            waves.Add(new RolloutWave(name.Value, selector, (int?)waveMax, pause, wave.Node.Location, gate, waveFailures));
        }

        var failures = FailureBudget(reader, "maxFailures");
        var respect = reader.Bool("respectMaintenanceWindow") ?? false;
        reader.Finish();
        return new RolloutSpec(waves.ToImmutable(), (int)maxUnavailable, reader.Node.Location, failures, respect);
    }

    /// <summary><c>maxFailures</c>: a count (<c>2</c>) or a percent of the wave (<c>"10%"</c>).</summary>
    private static FailureBudget? FailureBudget(FieldReader reader, string key)
    {
        var node = reader.Raw(key);
        if (node is null)
        {
            return null;
        }

        if (node is ScalarNode scalar)
        {
            var text = scalar.Value.Trim();
            var percent = text.EndsWith('%');
            if (int.TryParse(percent ? text[..^1] : text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && (!percent || value <= 100))
            {
                return new FailureBudget(value, percent);
            }

            reader.Error(node.Location, Codes.InvalidValue, $"{key} must be a count (e.g. 2) or a percent of the wave (e.g. \"10%\"); found '{scalar.Value}'");
            return null;
        }

        reader.Error(node.Location, Codes.InvalidValue, $"{key} must be a count (e.g. 2) or a percent of the wave (e.g. \"10%\"), not a {node.TypeName}");
        return null;
    }
}

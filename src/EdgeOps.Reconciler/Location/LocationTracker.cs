using System.Collections.Immutable;
using System.Text.Json;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Serialization;
using EdgeOps.Reconciler.Transactions;

namespace EdgeOps.Reconciler.Location;

/// <summary>One reading of where the cluster is: a position, or none (no fix), at a time, from a source.</summary>
public sealed record LocationSample(GeoPoint? Position, DateTimeOffset Time, string Source);

/// <summary>What the tracker keeps on disk (<c>location.json</c>), so a restart neither forgets a decision nor restarts a dwell.</summary>
public sealed record LocationState
{
    public double? Lat { get; init; }

    public double? Lon { get; init; }

    public DateTimeOffset? FixTime { get; init; }

    public string? Source { get; init; }

    /// <summary>Since when the source has had no fix (the last decisions stand meanwhile).</summary>
    public DateTimeOffset? FixLostSince { get; init; }

    public ImmutableSortedDictionary<string, AreaDecision> Decisions { get; init; } = ImmutableSortedDictionary<string, AreaDecision>.Empty;
}

/// <summary>The live location in a status report: rounded to the configured precision, with the fix's age and any lost fix.</summary>
public sealed record LocationStatus(double? Lat, double? Lon, string? Source, DateTimeOffset? FixTime, DateTimeOffset? FixLostSince, IReadOnlyDictionary<string, bool> Placed, string? Note);

/// <summary>
/// The cluster's live position and, for every object placed by location, the decision made from it with
/// hysteresis (<see cref="LocationHysteresis"/>). Samples arrive from a source (gpsd continuously, a node
/// annotation or the facts file once per pass); the renderer reads the decisions. A lost fix keeps the last
/// decisions and says so. Raises <see cref="PlacementChanged"/> when a decision flips, so the daemon re-renders.
/// </summary>
public sealed class LocationTracker
{
    private readonly string _path;
    private readonly Lock _gate = new();
    private LocationState _state;
    private ImmutableArray<(string Key, Placement Placement)> _areas = [];

    public LocationTracker(string stateDirectory)
    {
        _path = Path.Combine(stateDirectory, "location.json");
        _state = Load(_path);
    }

    public event Action? PlacementChanged;

    public LocationState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>The objects of the revision being rendered that are placed by location.</summary>
    public void SetAreas(IEnumerable<(string Key, Placement Placement)> areas)
    {
        lock (_gate)
        {
            _areas = [.. areas];
            if (_state is { Lat: { } lat, Lon: { } lon, FixTime: { } time })
            {
                var decisions = _state.Decisions;
                foreach (var (key, placement) in _areas.Where(a => !_state.Decisions.ContainsKey(a.Key)))
                {
                    decisions = decisions.SetItem(key, LocationHysteresis.Step(null, placement, new GeoPoint(lat, lon), time));
                }

                _state = _state with { Decisions = decisions };
            }
        }
    }

    public void Observe(LocationSample sample)
    {
        bool flipped;
        lock (_gate)
        {
            if (sample.Position is not { } position)
            {
                _state = _state with { FixLostSince = _state.FixLostSince ?? sample.Time, Source = sample.Source };
                return;
            }

            var decisions = _state.Decisions;
            flipped = false;
            foreach (var (key, placement) in _areas)
            {
                var previous = decisions.GetValueOrDefault(key);
                var next = LocationHysteresis.Step(previous, placement, position, sample.Time);
                flipped |= previous is not null && previous.Inside != next.Inside;
                decisions = decisions.SetItem(key, next);
            }

            var before = _state;
            _state = new LocationState
            {
                Lat = position.Lat,
                Lon = position.Lon,
                FixTime = sample.Time,
                Source = sample.Source,
                Decisions = decisions,
            };
            if (flipped || !before.Decisions.SequenceEqual(decisions) || before.FixLostSince is not null || before.Lat is null)
            {
                Save();
            }
        }

        if (flipped)
        {
            PlacementChanged?.Invoke();
        }
    }

    /// <summary>The position and decisions for rendering; null when no position was ever known (static placement applies).</summary>
    public (GeoPoint? Position, ImmutableSortedDictionary<string, bool>? Decisions) Facts()
    {
        lock (_gate)
        {
            return _state is { Lat: { } lat, Lon: { } lon }
                ? (new GeoPoint(lat, lon), _state.Decisions.Where(d => _areas.Any(a => a.Key == d.Key)).ToImmutableSortedDictionary(d => d.Key, d => d.Value.Inside, StringComparer.Ordinal))
                : (null, null);
        }
    }

    public LocationStatus Status(int decimals)
    {
        var state = State;
        var note = state.FixLostSince is { } lost
            ? $"no fix since {lost:u}: keeping the placement decided at {state.FixTime:u}"
            : state.Decisions.Where(d => d.Value.CandidateSince is not null).Select(d => $"{d.Key} {(d.Value.Inside ? "leaves" : "enters")} if it stays until {d.Value.CandidateSince:u} + dwell").FirstOrDefault();
        return new LocationStatus(
            state.Lat is { } lat ? Math.Round(lat, decimals) : null,
            state.Lon is { } lon ? Math.Round(lon, decimals) : null,
            state.Source,
            state.FixTime,
            state.FixLostSince,
            state.Decisions.ToDictionary(d => d.Key, d => d.Value.Inside, StringComparer.Ordinal),
            note);
    }

    public void Save()
    {
        lock (_gate)
        {
            DurableFile.WriteAllBytes(_path, JsonSerializer.SerializeToUtf8Bytes(_state, StateJson.Default.LocationState));
        }
    }

    private static LocationState Load(string path)
    {
        try
        {
            var state = File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), StateJson.Default.LocationState) : null;
            return state is null ? new LocationState() : state with { Decisions = state.Decisions ?? ImmutableSortedDictionary<string, AreaDecision>.Empty };
        }
        catch (JsonException)
        {
            return new LocationState(); // a damaged file costs only the dwell in progress
        }
    }
}

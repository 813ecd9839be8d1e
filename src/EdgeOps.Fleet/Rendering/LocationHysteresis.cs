using EdgeOps.Fleet.Model;

namespace EdgeOps.Fleet.Rendering;

/// <summary>
/// Where one placed object stands for a moving cluster: placed or not, and since when the position has been on
/// the other side of the edge by more than the margin (a migration that is still dwelling).
/// </summary>
public sealed record AreaDecision(bool Inside, DateTimeOffset? CandidateSince = null, DateTimeOffset? ChangedAt = null);

/// <summary>
/// Placement by live location with hysteresis, as a pure function of the previous decision, the position and
/// the time: a placed object leaves only after the position has been outside its area by more than
/// <see cref="Placement.Margin"/> metres for <see cref="Placement.Dwell"/>, and enters only after it has been
/// inside by the margin for the dwell. A robot zig-zagging along a fence therefore does not flap.
/// </summary>
public static class LocationHysteresis
{
    public static AreaDecision Step(AreaDecision? previous, Placement placement, GeoPoint position, DateTimeOffset now)
    {
        var signed = GeoMath.SignedDistanceMetres(placement, position);
        if (previous is null)
        {
            return new AreaDecision(signed >= 0, null, now); // the first position decides at once
        }

        var across = previous.Inside ? signed < -placement.Margin : signed > placement.Margin;
        if (!across)
        {
            return previous.CandidateSince is null ? previous : previous with { CandidateSince = null };
        }

        var since = previous.CandidateSince ?? now;
        return now - since >= placement.Dwell
            ? new AreaDecision(!previous.Inside, null, now)
            : previous with { CandidateSince = since };
    }
}

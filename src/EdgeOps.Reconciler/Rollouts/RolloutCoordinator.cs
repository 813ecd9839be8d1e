using System.Security.Cryptography;
using System.Text;
using EdgeOps.Fleet.Model;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Pipeline;
using EdgeOps.Reconciler.Status;

namespace EdgeOps.Reconciler.Rollouts;

/// <summary>
/// The agent's half of a rollout, run after the target revision is rendered: a revision that changes what this
/// cluster runs is taken only when the rollout planner says so (wave open, batch come, window open). Otherwise the
/// pass keeps the applied revision — drift correction included — and reports <c>Waiting</c> with the reason and the
/// time it expects to proceed. Of the revisions between the applied one and the head, the newest one the cluster's
/// wave may take is chosen, so a later wave skips straight past revisions that never passed the wave before it.
/// A cluster whose applied revision the collector reports halted goes back to its previous revision.
/// </summary>
public sealed class RolloutCoordinator(ReconcilerServices services)
{
    /// <summary>How far back from the head an agent looks for a revision its wave may take.</summary>
    public const int MaxCandidates = 16;

    private ReconcilerOptions Options => services.Options;

    public async Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var state = pass.State;
        var reports = services.Reports;
        if (state.AppliedRevision is { } applied && reports is not null && reports.IsHalted(applied) && !pass.RollingBack)
        {
            return RollBackHalted(pass, applied);
        }

        if (!pass.IsTransaction || state.AppliedRevision is null || pass.Render?.Cluster is null)
        {
            return StepResult.Next; // nothing new, or a cluster's first revision (there is nothing older to keep running)
        }

        var before = services.Renderer.Render(state.AppliedRevision);
        try
        {
            var changed = ChangedOwners(before, pass.Render);
            if (changed.Count == 0)
            {
                return StepResult.Next; // the new revision changes nothing on this cluster: take it at once
            }

            var render = pass.Render;
            var cluster = render.Cluster;
            var spec = SpecFor(render.Fleet, changed);
            var candidates = Candidates(pass.Target!, state.AppliedRevision);
            var now = Options.Clock.GetUtcNow();
            var window = spec.RespectMaintenanceWindow ? cluster.MaintenanceWindow : null;

            // The last receipt's gates are enough to keep waiting (saving a request per pass); going ahead is always
            // decided on gates fetched now, so a halt since the last report is never missed.
            var (gates, cached) = await GatesAsync(candidates, allowCached: true, cancellationToken).ConfigureAwait(false);
            var decisions = Decide(candidates, spec, cluster, render.Fleet, gates, window, now);
            if (cached && decisions.Any(d => d.Decision.Verdict == RolloutVerdict.Proceed))
            {
                (gates, _) = await GatesAsync(candidates, allowCached: false, cancellationToken).ConfigureAwait(false);
                decisions = Decide(candidates, spec, cluster, render.Fleet, gates, window, now);
            }

            var (first, firstDecision) = (decisions[0].Position, decisions[0].Decision);
            foreach (var (revision, position, decision) in decisions)
            {
                if (decision.Verdict != RolloutVerdict.Proceed)
                {
                    continue;
                }

                pass.Rollout = position;
                if (revision != pass.Target)
                {
                    // An older revision that has passed this cluster's previous wave: take it instead of the head.
                    pass.Note = pass.RolloutNote = $"head {PassContext.Short(pass.Target)} waits ({firstDecision.Reason}); taking {PassContext.Short(revision)}, which this wave may take";
                    pass.Render.Dispose();
                    pass.Render = services.Renderer.Render(revision);
                    pass.Target = revision;
                    if (pass.Render.Errors.Count > 0)
                    {
                        return Pipeline.Steps.RenderStep.Invalid(pass, pass.Render.Errors);
                    }
                }

                return StepResult.Next;
            }

            // No revision may be taken now: keep running (and correcting) the applied one.
            pass.Rollout = first;
            pass.Hold = (firstDecision.Verdict == RolloutVerdict.Halted ? $"revision {PassContext.Short(pass.Target)} is not taken: {firstDecision.Reason}" : $"revision {PassContext.Short(pass.Target)} waits: {firstDecision.Reason}", firstDecision.Until);
            return KeepApplied(pass, before);
        }
        finally
        {
            if (!ReferenceEquals(pass.Render, before))
            {
                before.Dispose(); // unless it became what the pass applies (the applied revision, kept)
            }
        }
    }

    /// <summary>The collector halted the rollout of the revision this cluster runs: back to the revision before it.</summary>
    private StepResult RollBackHalted(PassContext pass, string applied)
    {
        if (pass.State.PreviousRevision is not { } previous)
        {
            pass.Hold = ($"the rollout of {PassContext.Short(applied)} is halted, but this cluster has no earlier revision to return to; keeping it", null);
            return StepResult.Next;
        }

        pass.Render?.Dispose();
        pass.Render = services.Renderer.Render(previous);
        pass.Target = previous;
        pass.RollingBack = true;
        pass.Note = pass.RolloutNote = $"the rollout of {PassContext.Short(applied)} is halted; rolling back to {PassContext.Short(previous)}";
        return pass.Render.Errors.Count > 0 ? Pipeline.Steps.RenderStep.Invalid(pass, pass.Render.Errors) : StepResult.Next;
    }

    /// <summary>The pass goes on with the applied revision (rendered already, as <paramref name="applied"/>): drift correction while the new one waits.</summary>
    private static StepResult KeepApplied(PassContext pass, RenderedRevision applied)
    {
        pass.Render?.Dispose();
        pass.Render = applied;
        pass.Target = pass.State.AppliedRevision;
        return StepResult.Next;
    }

    /// <summary>The head and the revisions between it and the applied one (first parents, newest first), with their commit times.</summary>
    private List<(string Revision, DateTimeOffset Committed)> Candidates(string head, string applied)
    {
        using var repo = services.Git.Open();
        var list = new List<(string, DateTimeOffset)>();
        var commit = LibGit2Sharp.RepositoryExtensions.Lookup<LibGit2Sharp.Commit>(repo, head);
        while (commit is not null && commit.Sha != applied && list.Count < MaxCandidates)
        {
            list.Add((commit.Sha, commit.Committer.When));
            commit = commit.Parents.FirstOrDefault();
        }

        return list;
    }

    /// <summary>The planner's answer for each candidate, newest first.</summary>
    private List<(string Revision, RolloutPosition Position, RolloutDecision Decision)> Decide(
        List<(string Revision, DateTimeOffset Committed)> candidates, RolloutSpec spec, Cluster cluster, FleetModel fleet, Dictionary<string, RolloutStatus> gates, MaintenanceWindow? window, DateTimeOffset now)
    {
        var list = new List<(string, RolloutPosition, RolloutDecision)>(candidates.Count);
        foreach (var (revision, committed) in candidates)
        {
            var place = RolloutPlanner.Place(spec, cluster, fleet.Clusters, revision);
            var rollout = gates.GetValueOrDefault(revision);

            // Without a collector there is nothing to gate on: waves open at once (time gates, batches by time and windows still hold).
            var decision = RolloutPlanner.Decide(spec, place, w => services.Reports is null ? Ungated : Gate(rollout, w), window, now, committed);
            if (gates.Count == 0 && services.Reports is not null && decision.Verdict == RolloutVerdict.Wait && place.Wave > 0)
            {
                decision = decision with { Reason = decision.Reason + "; the collector is unreachable, so later waves hold" };
            }

            list.Add((revision, Position(revision, place, decision), decision));
        }

        return list;
    }

    /// <summary>Gate state from the collector: the last receipt's when allowed and it covers the only candidate, else one request for all candidates. Empty when unreachable.</summary>
    private async Task<(Dictionary<string, RolloutStatus> Gates, bool Cached)> GatesAsync(List<(string Revision, DateTimeOffset Committed)> candidates, bool allowCached, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, RolloutStatus>(StringComparer.Ordinal);
        if (services.Reports is not { } reports || candidates.Count == 0)
        {
            return (result, false);
        }

        if (allowCached && candidates.Count == 1 && reports.RecentRollout(candidates[0].Revision) is { } recent)
        {
            result[recent.Revision] = recent;
            return (result, true);
        }

        try
        {
            foreach (var rollout in await reports.Client.GetRolloutsAsync(candidates.Select(c => c.Revision), cancellationToken).ConfigureAwait(false))
            {
                result[rollout.Revision] = rollout;
            }
        }
        catch (Exception ex) when (ex is CollectorUnavailableException or CollectorRejectedException)
        {
            result.Clear();
        }

        return (result, false);
    }

    private static readonly WaveGate Ungated = new(null, int.MaxValue, Passed: true, Halted: false);

    private static WaveGate? Gate(RolloutStatus? rollout, int wave)
    {
        if (rollout is null)
        {
            return null;
        }

        var status = rollout.Waves.FirstOrDefault(w => w.Index == wave);
        return status is null
            ? new WaveGate(null, 0, Passed: false, Halted: rollout.Halted)
            : new WaveGate(status.OpenedAt, status.BatchesPassed, status.Gate == "passed", rollout.Halted || status.Gate == "halted", status.PassedAt);
    }

    private static RolloutPosition Position(string revision, WavePlace place, RolloutDecision decision) => new()
    {
        Revision = revision,
        Wave = place.Wave,
        WaveName = place.WaveName,
        WaveSize = place.WaveSize,
        Batch = place.Batch,
        BatchSize = place.BatchSize,
        Verdict = decision.Verdict.ToString(),
        Reason = decision.Reason,
        Until = decision.Until,
    };

    /// <summary>The rollout that governs a change: a changed workload's or UpgradePlan's own (the first by name that has one), else the fleet's default.</summary>
    internal static RolloutSpec SpecFor(FleetModel fleet, IReadOnlyCollection<string> changed) =>
        fleet.Workloads.Where(w => changed.Contains(w.Name) && w.Rollout is not null).OrderBy(w => w.Name, StringComparer.Ordinal).Select(w => w.Rollout)
            .Concat(fleet.UpgradePlans.Where(p => changed.Contains("UpgradePlan/" + p.Name) && p.Rollout is not null).OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Rollout))
            .FirstOrDefault()
            ?? fleet.Settings.Defaults.Rollout;

    /// <summary>The owners (workloads, device configs) whose rendered objects differ between two renders of this cluster, and changed upgrade plans.</summary>
    internal static HashSet<string> ChangedOwners(RenderedRevision before, RenderedRevision after)
    {
        var old = Digests(before);
        var now = Digests(after);
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var owner in old.Keys.Union(now.Keys))
        {
            if (!old.TryGetValue(owner, out var a) || !now.TryGetValue(owner, out var b) || a != b)
            {
                changed.Add(owner);
            }
        }

        return changed;
    }

    private static Dictionary<string, string> Digests(RenderedRevision render)
    {
        var digests = render.Objects.GroupBy(o => o.Owner, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Hash(Fleet.Yaml.YamlText.WriteStream(g.Select(o => o.Body))), StringComparer.Ordinal);
        foreach (var name in render.State?.UpgradePlans ?? [])
        {
            if (render.Fleet.UpgradePlans.FirstOrDefault(p => p.Name == name) is { } plan)
            {
                digests["UpgradePlan/" + name] = Hash($"{plan.Version} {plan.Artifact.Url.Value}");
            }
        }

        return digests;
    }

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

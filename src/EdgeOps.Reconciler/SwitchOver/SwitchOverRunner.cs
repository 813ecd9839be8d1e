using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Rendering;
using EdgeOps.Reconciler.Apply;
using EdgeOps.Reconciler.Pipeline;

namespace EdgeOps.Reconciler.SwitchOver;

/// <summary>
/// Carries BlueGreen switch-overs through their journalled steps once the target slot is applied: wait until it
/// is pre-initialised; hand exclusive devices over (tell the active slot to release them, scale it to zero, wait
/// for its pods to go, let the target take them); point every Service at the target in one apply; check its health
/// (failing → Services back to the still-warm active slot); then make the target active and keep the old slot warm
/// for <c>blueRetention</c>. Services only ever select one slot, and only a ready one.
/// </summary>
public sealed class SwitchOverRunner(ReconcilerServices services)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    public SwitchOverStore Store { get; } = new(services.Options.StateDirectory);

    private DateTimeOffset Now => services.Options.Clock.GetUtcNow();

    /// <summary>What a rendered revision applies: namespaces completed, BlueGreen workloads split into their slots.</summary>
    public IReadOnlyList<RenderedObject> Plan(RenderedRevision render, bool startSwitches) =>
        BlueGreenPlanner.Plan(NamespacePlanner.Complete(render.Objects, render.Fleet.Name), render.Fleet, Store, Now, startSwitches);

    /// <summary>A rollback: switches that have not moved the Services are dropped, and Services go back to the active slot.</summary>
    public void Abandon()
    {
        foreach (var record in Store.Records.Values.Where(r => r.Pending is not null))
        {
            Store.Set(record with { Pending = null, Serving = record.Active });
        }
    }

    /// <summary>Finishes every switch-over under way in this revision; null when all completed, else why one failed.</summary>
    public async Task<string?> CompleteAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var render = pass.Render!;
        foreach (var workload in BlueGreenPlanner.SwitchOverWorkloads(render.Fleet))
        {
            if (Store.Get(workload.Name) is not { Pending: { } } record)
            {
                continue;
            }

            var failure = await SwitchAsync(pass, workload, record, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                return failure;
            }
        }

        return null;
    }

    private async Task<string?> SwitchAsync(PassContext pass, Fleet.Model.Workload workload, SwitchOverRecord record, CancellationToken cancellationToken)
    {
        var render = pass.Render!;
        var timeout = render.HealthTimeout;
        var pending = record.Pending!;
        var ns = Namespace(pass, workload.Name);
        var target = pending.Bodies.Keys.Select(n => Id(pass, workload.Name, BlueGreenPlanner.SlotName(n, pending.To))).ToList();

        if (pending.Step == SwitchStep.Creating)
        {
            var health = await services.Health.WaitAsync(target, timeout, cancellationToken).ConfigureAwait(false);
            if (!health.Healthy)
            {
                return $"switch-over of {workload.Name}: {pending.To} did not become ready within {timeout.TotalSeconds:0} s: {health.Culprit!.Id}: {health.Culprit.Reason}";
            }

            if (workload.UpgradeStrategy!.PreInitializedWhen is { } condition && !await WaitPreInitializedAsync(ns, pending.To, condition, timeout, cancellationToken).ConfigureAwait(false))
            {
                return $"switch-over of {workload.Name}: {pending.To} was not pre-initialised within {timeout.TotalSeconds:0} s ({Describe(condition)})";
            }

            pending = pending with { PreInitializedAt = Now };
            record = record with { Pending = pending };
            Store.Set(record);
            pass.Checkpoint("switch:preinitialized");
            if (pending.Bodies.Values.Any(b => BlueGreenPlanner.HoldsDevices(b, render.Fleet)))
            {
                pending = pending with { Step = SwitchStep.Handoff, HandoffStarted = Now };
                record = record with { Pending = pending };
                Store.Set(record);
                pass.Checkpoint("switch:handoff");
            }
            else
            {
                pending = pending with { Step = SwitchStep.Switching };
                record = record with { Pending = pending, Serving = pending.To };
                Store.Set(record);
                pass.Checkpoint("switch:switching");
            }
        }

        if (pending.Step == SwitchStep.Handoff)
        {
            // The active slot is told to release its devices (annotation) and scaled to zero; the target takes them.
            var watch = Stopwatch.StartNew();
            await ApplyPlanAsync(pass, cancellationToken).ConfigureAwait(false);
            pass.Checkpoint("switch:released");
            if (!await WaitPodsGoneAsync(ns, record.Active, timeout, cancellationToken).ConfigureAwait(false))
            {
                return $"switch-over of {workload.Name}: {record.Active} did not release its devices within {timeout.TotalSeconds:0} s";
            }

            // The devices are free: only now does the target slot ask for them.
            pending = pending with { DevicesReleased = true };
            record = record with { Pending = pending };
            Store.Set(record);
            await ApplyPlanAsync(pass, cancellationToken).ConfigureAwait(false);
            pass.Checkpoint("switch:devices-granted");

            var health = await services.Health.WaitAsync(target, timeout, cancellationToken).ConfigureAwait(false);
            if (!health.Healthy)
            {
                return $"switch-over of {workload.Name}: {pending.To} with its devices did not become ready within {timeout.TotalSeconds:0} s: {health.Culprit!.Reason}";
            }

            pending = pending with { Step = SwitchStep.Switching, HandoffGapSeconds = watch.Elapsed.TotalSeconds };
            record = record with { Pending = pending, Serving = pending.To };
            Store.Set(record);
            pass.Checkpoint("switch:switching");
        }

        // Switching: every Service of the workload to the target, in one apply of the plan.
        await ApplyPlanAsync(pass, cancellationToken).ConfigureAwait(false);
        var switchedAt = Now;
        pass.Checkpoint("switch:switched");

        // Health after the switch: the target must still be healthy once traffic has had a moment to reach it.
        var settle = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, timeout.Ticks / 4));
        await Task.Delay(settle, services.Options.Clock, cancellationToken).ConfigureAwait(false);
        var after = await services.Health.CheckAsync(target, cancellationToken).ConfigureAwait(false);
        if (!after.Healthy)
        {
            return $"switch-over of {workload.Name}: {pending.To} turned unhealthy after the switch: {after.Culprit!.Id}: {after.Culprit.Reason}";
        }

        var retention = workload.UpgradeStrategy!.BlueRetention ?? Fleet.Model.UpgradeStrategy.DefaultBlueRetention;
        Store.Set(record with
        {
            Active = pending.To,
            Serving = pending.To,
            ActiveBodies = pending.Bodies,
            Pending = null,
            RetainedBodies = record.ActiveBodies,
            RetainUntil = Now + retention,
            LastSwitchSeconds = pending.PreInitializedAt is { } ready ? (switchedAt - ready).TotalSeconds : null,
            LastHandoffGapSeconds = pending.HandoffGapSeconds,
        });
        pass.Checkpoint("switch:committed");
        pass.Desired = Plan(render, startSwitches: false);
        return null;
    }

    private async Task ApplyPlanAsync(PassContext pass, CancellationToken cancellationToken)
    {
        pass.Desired = Plan(pass.Render!, startSwitches: false);
        var options = new ApplyOptions { Fleet = pass.Render!.Fleet.Name, Revision = pass.Target, Checkpoint = pass.Options.Checkpoint };
        var applied = await services.Engine.ApplyAsync(pass.Desired, options, cancellationToken).ConfigureAwait(false);
        if (applied.ChangeSet.HasFailures)
        {
            var failed = applied.ChangeSet.Changes.First(c => c.Action == ChangeAction.Failed);
            throw new ReconcilerException($"switch-over: {failed.Id}: {failed.Reason}");
        }
    }

    private async Task<bool> WaitPreInitializedAsync(string ns, string slot, Fleet.Model.PreInitializedCondition condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = services.Options.Clock;
        var started = clock.GetTimestamp();
        var pods = (await services.Api.ResolveAsync("v1", "Pod", cancellationToken).ConfigureAwait(false))!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (clock.GetElapsedTime(started) < timeout)
        {
            var found = await services.Api.ListAsync(pods, ns, $"{BlueGreenPlanner.SlotLabel}={slot}", cancellationToken).ConfigureAwait(false);
            var live = found.Where(p => p["metadata"]?["deletionTimestamp"] is null).ToList();
            if (live.Count > 0 && await AllAsync(live, p => Holds(p, condition, http, cancellationToken)).ConfigureAwait(false))
            {
                return true;
            }

            await Task.Delay(Poll, clock, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }

    private static async Task<bool> AllAsync(IEnumerable<JsonObject> pods, Func<JsonObject, Task<bool>> test)
    {
        foreach (var pod in pods)
        {
            if (!await test(pod).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<bool> Holds(JsonObject pod, Fleet.Model.PreInitializedCondition condition, HttpClient http, CancellationToken cancellationToken)
    {
        if (condition.Annotation is { } key)
        {
            return pod["metadata"]?["annotations"]?[key]?.GetValue<string>() == condition.AnnotationValue;
        }

        if (condition.ContainerReady is { } container)
        {
            return (pod["status"]?["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>()
                .Any(s => s["name"]?.GetValue<string>() == container && s["ready"]?.GetValue<bool>() == true);
        }

        if (pod["status"]?["podIP"]?.GetValue<string>() is not { } ip)
        {
            return false;
        }

        try
        {
            using var response = await http.GetAsync(new Uri($"http://{ip}:{condition.HttpPort}{condition.HttpPath}"), cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private async Task<bool> WaitPodsGoneAsync(string ns, string slot, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = services.Options.Clock;
        var started = clock.GetTimestamp();
        var pods = (await services.Api.ResolveAsync("v1", "Pod", cancellationToken).ConfigureAwait(false))!;
        while (clock.GetElapsedTime(started) < timeout)
        {
            if ((await services.Api.ListAsync(pods, ns, $"{BlueGreenPlanner.SlotLabel}={slot}", cancellationToken).ConfigureAwait(false)).Count == 0)
            {
                return true;
            }

            await Task.Delay(Poll, clock, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }

    private static string Describe(Fleet.Model.PreInitializedCondition condition) =>
        condition.Annotation is { } a ? $"annotation {a}={condition.AnnotationValue} on every pod"
        : condition.ContainerReady is { } c ? $"container {c} ready on every pod"
        : $"GET :{condition.HttpPort}{condition.HttpPath} answering 2xx on every pod";

    private static string Namespace(PassContext pass, string workload) =>
        pass.Desired.First(o => o.Owner == workload && o.OwnerKind == Fleet.Model.FleetApi.WorkloadKind && o.Id.Namespace is not null).Id.Namespace!;

    private static ObjectIdentity Id(PassContext pass, string workload, string name) =>
        pass.Desired.First(o => o.Owner == workload && o.OwnerKind == Fleet.Model.FleetApi.WorkloadKind && o.Id.Name == name).Id;
}

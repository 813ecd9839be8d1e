using EdgeOps.Reconciler.Location;

namespace EdgeOps.Reconciler.Pipeline.Steps;

/// <summary>
/// Takes this pass's reading of the live position (the node's annotation, or the facts file) into the tracker
/// before rendering; gpsd feeds the tracker continuously instead (its follower starts with the first pass, which
/// waits briefly for a first report). Never stops the pass: without a position the last decisions stand.
/// </summary>
public sealed class LocationStep : IReconcileStep
{
    public string Name => "location";

    public async Task<StepResult> RunAsync(PassContext pass, CancellationToken cancellationToken)
    {
        var options = pass.Options.Location;
        var services = pass.Services;
        var now = pass.Options.Clock.GetUtcNow();
        switch (options.Source)
        {
            case LocationSourceKind.Node:
                services.Location.Observe(await NodeLocation.ReadAsync(services.Api, options.NodeName, now, cancellationToken).ConfigureAwait(false));
                break;
            case LocationSourceKind.Facts:
                services.Location.Observe(new LocationSample(services.Renderer.FactsFileLocation(), now, "facts file"));
                break;
            case LocationSourceKind.Gpsd when services.Gpsd is null:
                services.Gpsd = new GpsdWatcher(options.Gpsd, services.Location.Observe, pass.Options.Clock);
                for (var waited = 0; waited < 30 && services.Gpsd.Reports == 0; waited++)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), pass.Options.Clock, cancellationToken).ConfigureAwait(false);
                }

                break;
        }

        return StepResult.Next;
    }
}

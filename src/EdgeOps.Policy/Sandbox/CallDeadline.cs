using Jint;

namespace EdgeOps.Policy.Sandbox;

/// <summary>
/// The wall-clock budget of one policy call, across every entry into the engine it makes (the entry
/// point, then the host's reads of what it returned), and the caller's cancellation.
/// <para>
/// The engine checks it every few statements (it only observes the clock and a token, so checking less
/// often delays detection and changes nothing else). A check reads <see cref="Clock"/>, a counter of
/// milliseconds that one background thread advances: reading the system clock at every check cost a
/// fifth of a policy call on virtual machines where the clock is a system call, and the counter's few
/// milliseconds of lag are nothing against a budget of seconds. The thread is a plain OS thread, not a
/// thread-pool timer, so a saturated pool (validation runs policies on every core) cannot stop the clock.
/// </para>
/// </summary>
internal sealed class CallDeadline : Constraint
{
    private long _deadline = long.MaxValue;
    private TimeSpan _budget;
    private CancellationToken _token;

    public override bool IsAmortizable => true;

    /// <summary>Arms the budget from now; calling it again re-arms.</summary>
    public void Begin(TimeSpan budget, CancellationToken token)
    {
        _budget = budget;
        _token = token;
        var milliseconds = (long)Math.Min(budget.TotalMilliseconds, long.MaxValue / 4);
        _deadline = Clock.Now + Math.Max(1, milliseconds);
    }

    /// <summary>Disarms: outside a call nothing is bounded (and checks cost two loads).</summary>
    public void End()
    {
        _deadline = long.MaxValue;
        _token = default;
    }

    public override void Check()
    {
        _token.ThrowIfCancellationRequested();
        if (_deadline != long.MaxValue && Clock.Now > _deadline)
        {
            throw new TimeoutException($"the policy call ran past its time budget of {_budget.TotalSeconds:0.###} s");
        }
    }

    /// <summary>Deliberately nothing: the engine resets constraints at every entry, and the budget spans them all.</summary>
    public override void Reset()
    {
    }

    /// <summary>Milliseconds since an arbitrary start, advanced every few milliseconds by one background thread.</summary>
    internal static class Clock
    {
        private const int Resolution = 5;
        private static long _now = Environment.TickCount64;

        static Clock()
        {
            var ticker = new Thread(Tick) { IsBackground = true, Name = "edgeops-policy-clock" };
            ticker.Start();
        }

        public static long Now => Volatile.Read(ref _now);

        private static void Tick()
        {
            while (true)
            {
                Thread.Sleep(Resolution);
                Volatile.Write(ref _now, Environment.TickCount64);
            }
        }
    }
}

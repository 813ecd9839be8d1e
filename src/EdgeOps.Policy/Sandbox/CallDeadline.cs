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
/// It ticks only while some call is armed: between the agent's passes it sleeps, instead of waking the
/// device two hundred times a second for nothing.
/// </para>
/// </summary>
internal sealed class CallDeadline(CallDeadline.Clock clock) : Constraint
{
    private readonly Clock _clock = clock;
    private long _deadline = long.MaxValue;
    private TimeSpan _budget;
    private CancellationToken _token;

    public CallDeadline()
        : this(Clock.Shared)
    {
    }

    public override bool IsAmortizable => true;

    /// <summary>Arms the budget from now; calling it again re-arms.</summary>
    public void Begin(TimeSpan budget, CancellationToken token)
    {
        if (_deadline == long.MaxValue)
        {
            _clock.Arm();
        }

        _budget = budget;
        _token = token;
        var milliseconds = (long)Math.Min(budget.TotalMilliseconds, long.MaxValue / 4);
        _deadline = _clock.Now + Math.Max(1, milliseconds);
    }

    /// <summary>Disarms: outside a call nothing is bounded (and checks cost two loads).</summary>
    public void End()
    {
        if (_deadline != long.MaxValue)
        {
            _clock.Disarm();
        }

        _deadline = long.MaxValue;
        _token = default;
    }

    public override void Check()
    {
        _token.ThrowIfCancellationRequested();
        if (_deadline != long.MaxValue && _clock.Now > _deadline)
        {
            throw new TimeoutException($"the policy call ran past its time budget of {_budget.TotalSeconds:0.###} s");
        }
    }

    /// <summary>Deliberately nothing: the engine resets constraints at every entry, and the budget spans them all.</summary>
    public override void Reset()
    {
    }

    /// <summary>
    /// Milliseconds since an arbitrary start, advanced every few milliseconds by one background thread
    /// while at least one deadline is armed. Arming a stopped clock first sets it to the time, so a
    /// deadline is never counted from a stale reading.
    /// </summary>
    internal sealed class Clock
    {
        public const int Resolution = 5;

        private readonly object _gate = new();
        private long _now = Environment.TickCount64;
        private int _armed;

        private Clock()
        {
            var ticker = new Thread(Tick) { IsBackground = true, Name = "edgeops-policy-clock" };
            ticker.Start();
        }

        /// <summary>The clock every policy engine reads; made, with its thread, on the first policy call.</summary>
        public static Clock Shared => SharedHolder.Instance;

        public long Now => Volatile.Read(ref _now);

        /// <summary>Deadlines armed now: while there are none the thread sleeps.</summary>
        public int Armed => Volatile.Read(ref _armed);

        /// <summary>A clock of its own, with a thread of its own (for tests that watch it stop and start).</summary>
        internal static Clock CreateForTests() => new();

        public void Arm()
        {
            if (Interlocked.Increment(ref _armed) == 1)
            {
                Volatile.Write(ref _now, Environment.TickCount64);
                lock (_gate)
                {
                    Monitor.Pulse(_gate);
                }
            }
        }

        public void Disarm() => Interlocked.Decrement(ref _armed);

        private void Tick()
        {
            while (true)
            {
                lock (_gate)
                {
                    // Checked and waited on under the lock that Arm pulses under: no wake-up is lost.
                    while (Volatile.Read(ref _armed) == 0)
                    {
                        Monitor.Wait(_gate);
                    }
                }

                Thread.Sleep(Resolution);
                Volatile.Write(ref _now, Environment.TickCount64);
            }
        }

        private static class SharedHolder
        {
            public static readonly Clock Instance = new();
        }
    }
}

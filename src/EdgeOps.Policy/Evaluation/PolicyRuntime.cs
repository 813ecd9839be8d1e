using EdgeOps.Fleet.Yaml;
using EdgeOps.Policy.Loading;
using EdgeOps.Policy.Sandbox;

namespace EdgeOps.Policy.Evaluation;

/// <summary>
/// The realms of one thread: one <see cref="PolicyRealm"/> per policy of the set, made when the
/// policy is first called and made again when a call left it spent.
/// </summary>
internal sealed class PolicyRuntime(PolicySet set, PolicyLimits limits, DateTimeOffset now, IReadOnlyList<Node?> parameters, CancellationToken cancellationToken)
{
    private readonly PolicyRealm?[] _realms = new PolicyRealm?[set.Policies.Length];

    public Outcome Invoke(int index, bool clusterLevel, PolicyCall call)
    {
        var realm = _realms[index];
        if (realm is null || realm.Spent)
        {
            realm = _realms[index] = new PolicyRealm(set.Policies[index], limits, now, parameters[index], cancellationToken);
        }

        return realm.Invoke(clusterLevel, call);
    }
}

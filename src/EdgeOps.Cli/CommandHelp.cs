namespace EdgeOps.Cli;

/// <summary>What every command's --help ends with: examples, its exit codes and the environment variables it reads.</summary>
internal static class CommandHelp
{
    private const string CommonExits = "2 usage error or unreadable input; 70 internal defect; 130 interrupted";

    private static readonly Dictionary<string, (string[] Examples, string Exits, string Environment)> Epilogues = new(StringComparer.Ordinal)
    {
        ["edgeops"] = (["edgeops validate examples/fleet-repo", "edgeops render --cluster robot-es-0001 examples/fleet-repo", "source <(edgeops completion bash)"],
            $"0 success; 1 the input is invalid or a check failed; {CommonExits}", "EDGEOPS_DEBUG=1 adds the stack trace to an internal error"),
        ["validate"] = (["edgeops validate .", "edgeops validate . -o sarif > edgeops.sarif", "edgeops validate . --rev HEAD~1 --cluster robot-es-0001", "edgeops validate . --verify-signatures", "edgeops validate . --changed-since origin/main"],
            $"0 valid (warnings allowed); 1 at least one error; {CommonExits}", "EDGEOPS_DEBUG"),
        ["render"] = (["edgeops render --cluster robot-es-0001 .", "edgeops render --cluster robot-es-0001 . -o json | jq '.[].kind'"],
            $"0 rendered; 1 the fleet has errors; {CommonExits}", "EDGEOPS_DEBUG"),
        ["clusters"] = (["edgeops clusters .", "edgeops clusters . -o json"], $"0 listed; 1 the fleet has errors; {CommonExits}", "EDGEOPS_DEBUG"),
        ["diff"] = (["edgeops diff main..HEAD .", "edgeops diff HEAD . --selector tier=far", "edgeops diff origin/main..HEAD . -o markdown > comment.md", "edgeops diff A..B --exit-code"],
            $"0 compared (or, with --exit-code, nothing changed); 1 a revision has errors, or with --exit-code something changed; {CommonExits}", "EDGEOPS_DEBUG"),
        ["check"] = (["edgeops check -b pod-security-restricted deploy/", "helm template chart | edgeops check -b pod-security-baseline -", "edgeops check -p policies -o github manifests/"],
            $"0 no error-severity violation; 1 some; {CommonExits}", "EDGEOPS_DEBUG"),
        ["test"] = (["edgeops test policies", "edgeops test policies -o junit > policy-tests.xml"], $"0 every expectation holds; 1 some failed or a test file has errors; {CommonExits}", "EDGEOPS_DEBUG"),
        ["reconcile"] = (["edgeops reconcile --repo https://git.example.com/fleet.git --cluster robot-es-0001 --once",
            "edgeops reconcile --repo /srv/fleet --cluster edge-1 --kubeconfig ~/.kube/config --context k3s --interval 1m"],
            $"0 applied or unchanged (--once), or stopped cleanly (daemon); 1 refused, invalid, rolled back or failed (status.json says why); 75 offline, the cached revision enforced; 70 a pass crashed; {CommonExits}",
            "EDGEOPS_GIT_CREDENTIALS (token or user:password), EDGEOPS_METRICS_PREFIX (default http://127.0.0.1:9464/, or off), POD_NAME (shown as the lease holder), KUBECONFIG"),
        ["status"] = (["edgeops status reports/", "edgeops status reports/ --fleet . --selector tier=micro --not-ready", "edgeops status reports/ -o json",
            "edgeops status --collector http://collector:8080 --wave canary --not-ready"],
            $"0 every listed cluster ready and current; 1 some are not ready, stale or never reported; {CommonExits}", "EDGEOPS_DEBUG"),
        ["install"] = (["edgeops install --cluster robot-es-0001 --repo https://git.example.com/fleet.git --image ghcr.io/edgeops/edgeops@sha256:DIGEST --export | kubectl apply -f -",
            "edgeops install --cluster robot-es-0001 --repo https://git.example.com/fleet.git --image REF@sha256:DIGEST --allowed-signers allowed_signers --export > agent.yaml"],
            $"0 printed; {CommonExits}", "none"),
        ["verify-bundle"] = (["edgeops verify-bundle --bundle os.sigstore.json --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com os.img",
            "edgeops verify-bundle --bundle b.json --key cosign.pub sha256:<64 hex>"],
            "0 verified; 1 rejected (the reason names the step); 2 an input cannot be read; 70 internal defect", "none"),
        ["rollout"] = (["edgeops rollout status current --collector http://collector:8080", "edgeops rollout halt 3f2a…(full SHA) --collector http://collector:8080 --reason 'camera crashes'",
            "edgeops rollout resume 3f2a…(full SHA) --collector https://collector.example --token-file admin.token -o json"],
            $"0 shown or done; 2 the collector cannot be reached or refused (a halt from another host needs --token-file); {CommonExits}", "none"),
        ["collector"] = (["edgeops collector --fleet https://git.example.com/fleet.git --db sqlite:/var/lib/edgeops/collector.db --listen 0.0.0.0:8080",
            "edgeops collector --fleet ./fleet --db postgres://edgeops@db.internal/edgeops --admin-token-file /run/secrets/admin"],
            "0 stopped cleanly; 2 the fleet repo, database or address cannot be used; 70 internal defect", "EDGEOPS_GIT_CREDENTIALS"),
        ["completion"] = (["source <(edgeops completion bash)", "edgeops completion zsh > \"${fpath[1]}/_edgeops\"", "edgeops completion fish | source"], "0 printed; 2 unknown shell", "none"),
    };

    /// <summary>The epilogue of <paramref name="command"/>'s help, or empty for a command without one.</summary>
    public static string Epilogue(string command)
    {
        if (!Epilogues.TryGetValue(command, out var help))
        {
            return string.Empty;
        }

        return $"""
            Examples:
              {string.Join("\n  ", help.Examples)}

            Exit codes:
              {help.Exits}

            Environment:
              {help.Environment}

            """;
    }

    public static IReadOnlyCollection<string> Commands => Epilogues.Keys;
}

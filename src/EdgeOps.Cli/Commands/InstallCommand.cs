using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using EdgeOps.Fleet.Loading;
using EdgeOps.Fleet.Sources;
using EdgeOps.Reconciler.Source;

namespace EdgeOps.Cli.Commands;

/// <summary>
/// <c>edgeops install --export</c>: the manifests that run the agent in one cluster — Namespace,
/// ServiceAccount, RBAC for exactly what the agent does, the state volume, the Deployment and, with
/// --allowed-signers, the signers Secret — as <c>flux install --export</c> prints Flux's. Pipe them to
/// <c>kubectl apply -f -</c> or commit them; deploy/reconciler.yaml is this output for the example cluster.
/// </summary>
internal static class InstallCommand
{
    public static Command Create(CliContext context)
    {
        var cluster = new Option<string>("--cluster") { Description = "This cluster's name in the fleet", Required = true };
        var repo = new Option<string>("--repo") { Description = "The fleet repo URL the agent pulls", Required = true };
        var branch = new Option<string?>("--branch") { Description = "Branch to follow (default: the repository's default branch)" };
        var signers = new Option<string?>("--allowed-signers") { Description = "git allowed_signers file: shipped as a Secret, and the agent applies only commits signed by these keys" };
        var image = new Option<string>("--image") { Description = "The agent's image, by digest (REF@sha256:…, as scripts/build-image.sh prints it)", Required = true };
        var ns = new Option<string>("--namespace") { Description = "The agent's namespace", DefaultValueFactory = _ => "edgeops-system" };
        var interval = new Option<string>("--interval") { Description = "Time between passes", DefaultValueFactory = _ => "5m" };
        var export = new Option<bool>("--export") { Description = "Print the manifests (required: apply them with kubectl apply -f -)" };
        var hostUpgrades = new Option<bool>("--host-upgrades") { Description = "Let the agent carry out OS UpgradePlans through the host's RAUC: mounts the host's system D-Bus and keeps its state on the host (see docs/upgrades.md for the privileges this takes)" };
        var collector = new Option<string?>("--collector") { Description = "The fleet's collector: the agent sends it signed status reports and takes rollout gates from it; the report key comes from the Secret edgeops-report-key (key: key), created beside these manifests" };
        var command = new Command("install", "Print the manifests that install the agent in a cluster")
        {
            cluster, repo, branch, signers, image, ns, interval, export, hostUpgrades, collector,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!parse.GetValue(export))
            {
                throw new FleetSourceException("install prints manifests: add --export and apply them, e.g. 'edgeops install … --export | kubectl apply -f -'");
            }

            var name = ReconcileCommand.ClusterName(parse.GetValue(cluster)!);
            var reference = parse.GetValue(image)!;
            if (!IsPinned(reference))
            {
                throw new FleetSourceException($"--image '{reference}' is not named by digest: an agent must run exactly the image that was built and tested, so give REF@sha256:<64 hex digits> (scripts/build-image.sh prints the digest)");
            }

            var url = RepoUrl(parse.GetValue(repo)!);
            var followed = ReconcileCommand.BranchName(parse.GetValue(branch));
            var agentNamespace = ReconcileCommand.NamespaceName(parse.GetValue(ns)!);
            var every = ReconcileCommand.ParseDuration(parse.GetValue(interval)!);
            var signersText = parse.GetValue(signers) is { } file ? Signers(file) : null;
            if (parse.GetValue(collector) is { } collectorUrl && (!Uri.TryCreate(collectorUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0))
            {
                throw new FleetSourceException($"--collector must be an http(s) URL without user information; found '{GitSource.Redact(collectorUrl)}'");
            }

            var manifests = Manifests(new InstallSettings(name, url, followed, reference, agentNamespace, every, signersText, parse.GetValue(hostUpgrades), parse.GetValue(collector)));
            await context.Out.WriteAsync(manifests).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// --repo: a URL the agent can pull from inside the cluster (http, https or git), without user
    /// information — the manifests are committed and the Deployment is readable by many, so credentials
    /// belong in the Secret edgeops-git-credentials.
    /// </summary>
    internal static string RepoUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "git") || uri.Host.Length == 0 || text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new FleetSourceException($"--repo must be an http://, https:// or git:// URL the agent can reach from the cluster; found '{GitSource.Redact(text)}'");
        }

        if (uri.UserInfo.Length > 0)
        {
            throw new FleetSourceException($"--repo holds credentials ({GitSource.Redact(text)}): the manifests would show them to anyone who can read the Deployment or the repo they are committed to; give the URL without them and put them in the Secret edgeops-git-credentials (key: credentials) in the agent's namespace");
        }

        return text;
    }

    /// <summary>--allowed-signers: read and checked as the agent will, so that a wrong file is a usage error now and not an agent that refuses every commit.</summary>
    private static string Signers(string path)
    {
        try
        {
            return Reconciler.Pipeline.SshRevisionVerifier.Read(path).Text;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FleetSourceException($"--allowed-signers {path}: cannot read it: {ex.Message}", ex);
        }
        catch (Reconciler.Pipeline.ReconcilerException ex)
        {
            throw new FleetSourceException(ex.Message, ex);
        }
    }

    /// <summary>True for an image reference that ends in a sha256 digest.</summary>
    internal static bool IsPinned(string reference)
    {
        var at = reference.LastIndexOf("@sha256:", StringComparison.Ordinal);
        var digest = at < 0 ? string.Empty : reference[(at + "@sha256:".Length)..];
        return at > 0 && digest.Length == 64 && digest.All(char.IsAsciiHexDigitLower);
    }

    internal sealed record InstallSettings(string Cluster, string Repo, string? Branch, string Image, string Namespace, TimeSpan Interval, string? AllowedSigners, bool HostUpgrades = false, string? Collector = null);

    internal static string Manifests(InstallSettings s)
    {
        var ns = Q(s.Namespace);
        var text = new StringBuilder();
        var podSecurity = s.HostUpgrades
            ? "privileged   # --host-upgrades: hostPath volumes and a root user (docs/upgrades.md)"
            : "restricted";
        var stateClaim = s.HostUpgrades
            ? string.Empty
            : """
              # The repo cache, the transaction journal, the install ID and the status report survive restarts here.
              apiVersion: v1
              kind: PersistentVolumeClaim
              metadata:
                name: edgeops-state
                namespace: NAMESPACE
              spec:
                accessModes: [ReadWriteOnce]
                resources:
                  requests:
                    storage: 512Mi
              ---

              """.Replace("NAMESPACE", ns, StringComparison.Ordinal);
        text.Append(CultureInfo.InvariantCulture, $"""
            # The EdgeOps agent for cluster {s.Cluster}: edgeops install --export (deploy/reconciler.yaml is this
            # output for the example cluster). For a private repo, create the Secret edgeops-git-credentials
            # (key: credentials, a token or user:password) in {s.Namespace}.
            apiVersion: v1
            kind: Namespace
            metadata:
              name: {ns}
              labels:
                pod-security.kubernetes.io/enforce: {podSecurity}
            ---
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: edgeops-reconciler
              namespace: {ns}
            ---
            # In its own namespace the agent keeps its inventory and status ConfigMaps, holds the cluster lease
            # (one agent per cluster) and records Events on its status.
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata:
              name: edgeops-reconciler-state
              namespace: {ns}
            rules:
              - apiGroups: [""]
                resources: [configmaps]
                verbs: [get, list, create, patch, update]
              - apiGroups: [coordination.k8s.io]
                resources: [leases]
                verbs: [get, create, update]
              - apiGroups: [""]
                resources: [events]
                verbs: [create, patch]
              - apiGroups: [events.k8s.io]
                resources: [events]
                verbs: [create, patch]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: edgeops-reconciler-state
              namespace: {ns}
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: Role
              name: edgeops-reconciler-state
            subjects:
              - kind: ServiceAccount
                name: edgeops-reconciler
                namespace: {ns}
            ---
            # What it applies: the kinds the fleet ships (here those of the example fleet: workloads, config,
            # services, CRDs and their resources, Akri configurations). A fleet that ships other kinds adds
            # them here. get/list on everything it applies lets it check live state and, before pruning a
            # namespace, that the namespace holds nothing EdgeOps does not own.
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: edgeops-reconciler
            rules:
              - apiGroups: [""]
                resources: [namespaces, configmaps, services, serviceaccounts, persistentvolumeclaims, pods, secrets]
                verbs: [get, list, create, patch, update, delete]
              - apiGroups: [apps]
                resources: [deployments, statefulsets, daemonsets, replicasets]
                verbs: [get, list, create, patch, update, delete]
              - apiGroups: [batch]
                resources: [jobs, cronjobs]
                verbs: [get, list, create, patch, update, delete]
              - apiGroups: [apiextensions.k8s.io]
                resources: [customresourcedefinitions]
                verbs: [get, list, create, patch, update, delete]
              - apiGroups: [akri.sh, orchard.pomona.io]
                resources: ["*"]
                verbs: [get, list, create, patch, update, delete]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: edgeops-reconciler
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: edgeops-reconciler
            subjects:
              - kind: ServiceAccount
                name: edgeops-reconciler
                namespace: {ns}
            ---

            """);
        text.Append(stateClaim);
        if (s.AllowedSigners is { } signers)
        {
            text.Append(CultureInfo.InvariantCulture, $"""
                # Who may sign the commits the agent applies (pinned from outside the repo).
                apiVersion: v1
                kind: Secret
                metadata:
                  name: edgeops-allowed-signers
                  namespace: {ns}
                stringData:
                  allowed_signers: {Q(signers)}
                ---

                """);
        }

        var args = new List<string>
        {
            "reconcile",
            $"--repo={s.Repo}",
            "--cluster=$(CLUSTER_NAME)",
            $"--namespace={s.Namespace}",
            "--state-dir=/var/lib/edgeops",
            $"--interval={Fleet.Model.DurationParser.Format(s.Interval)}",
            "--credentials-file=/etc/edgeops/git/credentials",
        };
        if (s.Branch is { } branch)
        {
            args.Add($"--branch={branch}");
        }

        if (s.AllowedSigners is not null)
        {
            args.Add("--allowed-signers=/etc/edgeops/trust/allowed_signers");
        }

        if (s.HostUpgrades)
        {
            args.Add("--slot-backend=rauc");
        }

        if (s.Collector is { } collector)
        {
            args.Add($"--collector={collector}");
            args.Add("--report-key=/etc/edgeops/report/key");
        }

        // D-Bus authenticates callers by uid: RAUC's and logind's policies (Reboot) admit root; the bundle is
        // opened by RAUC on the host, so the state folder is the host's own /var/lib/edgeops.
        var runAs = s.HostUpgrades
            ? "runAsNonRoot: false\n        runAsUser: 0\n        runAsGroup: 0"
            : "runAsNonRoot: true\n        runAsUser: 65532\n        fsGroup: 65532";
        var hostEnv = s.HostUpgrades
            ? "            - name: NODE_NAME\n              valueFrom:\n                fieldRef:\n                  fieldPath: spec.nodeName\n            - name: DBUS_SYSTEM_BUS_ADDRESS\n              value: \"unix:path=/run/dbus/system_bus_socket\"\n"
            : string.Empty;

        var argLines = string.Concat(args.Select(a => $"            - {Q(a)}\n"));
        text.Append(CultureInfo.InvariantCulture, $"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: edgeops-reconciler
              namespace: {ns}
            spec:
              replicas: 1
              strategy:
                type: Recreate   # never two agents on one state volume
              selector:
                matchLabels:
                  app.kubernetes.io/name: edgeops-reconciler
              template:
                metadata:
                  labels:
                    app.kubernetes.io/name: edgeops-reconciler
                spec:
                  serviceAccountName: edgeops-reconciler
                  terminationGracePeriodSeconds: 60   # time to finish a step and release the cluster lease
                  securityContext:
                    {runAs}
                    seccompProfile:
                      type: RuntimeDefault
                  containers:
                    - name: reconciler
                      image: {Q(s.Image)}
                      args:
            {argLines}          env:
                        - name: CLUSTER_NAME
                          value: {Q(s.Cluster)}
                        - name: POD_NAME
                          valueFrom:
                            fieldRef:
                              fieldPath: metadata.name
                        - name: EDGEOPS_METRICS_PREFIX
                          value: "http://+:9464/"
                        - name: DOTNET_gcServer
                          value: "0"
            {hostEnv}          ports:
                        - name: metrics
                          containerPort: 9464
                      livenessProbe:
                        httpGet:
                          path: /healthz
                          port: metrics
                        periodSeconds: 30
                      readinessProbe:
                        httpGet:
                          path: /readyz
                          port: metrics
                        periodSeconds: 15
                      resources:
                        requests:
                          cpu: 20m
                          memory: 64Mi
                        limits:
                          cpu: 500m
                          memory: 256Mi
                      securityContext:
                        allowPrivilegeEscalation: false
                        readOnlyRootFilesystem: true
                        capabilities:
                          drop: [ALL]
                      volumeMounts:
                        - name: state
                          mountPath: /var/lib/edgeops
                        - name: git-credentials
                          mountPath: /etc/edgeops/git
                          readOnly: true
                        - name: tmp
                          mountPath: /tmp

            """);
        if (s.AllowedSigners is not null)
        {
            text.Append("            - name: allowed-signers\n              mountPath: /etc/edgeops/trust\n              readOnly: true\n");
        }

        if (s.HostUpgrades)
        {
            text.Append("            - name: system-bus\n              mountPath: /run/dbus/system_bus_socket\n");
        }

        if (s.Collector is not null)
        {
            text.Append("            - name: report-key\n              mountPath: /etc/edgeops/report\n              readOnly: true\n");
        }

        text.Append(s.HostUpgrades
            ? """
                  volumes:
                    - name: state
                      hostPath:
                        path: /var/lib/edgeops
                        type: DirectoryOrCreate
                    - name: system-bus
                      hostPath:
                        path: /run/dbus/system_bus_socket
                        type: Socket

            """
            : """
                  volumes:
                    - name: state
                      persistentVolumeClaim:
                        claimName: edgeops-state

            """);
        text.Append("""
                    - name: git-credentials
                      secret:
                        secretName: edgeops-git-credentials
                        optional: true
                    - name: tmp
                      emptyDir: {}

            """);
        if (s.AllowedSigners is not null)
        {
            text.Append("        - name: allowed-signers\n          secret:\n            secretName: edgeops-allowed-signers\n");
        }

        if (s.Collector is not null)
        {
            // The cluster's private report key never passes through these manifests or the fleet repo: the
            // operator creates the Secret (kubectl -n NS create secret generic edgeops-report-key --from-file=key=…).
            text.Append("        - name: report-key\n          secret:\n            secretName: edgeops-report-key\n            defaultMode: 0440\n");
        }

        return text.ToString();
    }

    /// <summary>A YAML double-quoted scalar (JSON string syntax is valid YAML).</summary>
    private static string Q(string value) => $"\"{JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}\"";
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeOps.Fleet.Diagnostics;
using EdgeOps.Fleet.Yaml;

namespace EdgeOps.Reconciler.Kube;

/// <summary>A Kubernetes configuration that cannot be used; located when the problem is in a file.</summary>
public sealed class KubeConfigException : Exception
{
    public KubeConfigException(Diagnostic diagnostic)
        : base(diagnostic.ToString()) => Diagnostic = diagnostic;

    public KubeConfigException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>Where in a kubeconfig file the problem is, when it is in one.</summary>
    public Diagnostic? Diagnostic { get; }
}

/// <summary>
/// Finds the API server and credentials the way kubectl does: an explicit kubeconfig file; else, in a
/// pod and with no context asked for, the pod's service account; else the files <c>KUBECONFIG</c>
/// lists (merged, the first to define a name wins); else <c>~/.kube/config</c>. A kubeconfig gives
/// clusters (server, certificate-authority[-data], insecure-skip-tls-verify, tls-server-name, proxy-url), users
/// (token, tokenFile, client-certificate[-data] with client-key[-data], username and password, an exec
/// credential plugin) and contexts; relative paths are relative to the file that names them. The
/// removed auth-provider plugins and impersonation are refused by name.
/// </summary>
public static class KubeConfig
{
    public const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    public static KubeConnection Resolve(string? kubeconfig, string? context) =>
        Resolve(kubeconfig, context, Environment.GetEnvironmentVariable, ServiceAccountDirectory);

    internal static KubeConnection Resolve(string? kubeconfig, string? context, Func<string, string?> environment, string serviceAccount)
    {
        if (kubeconfig is not null)
        {
            return FromFiles([kubeconfig], context);
        }

        if (context is null && IsInCluster(environment, serviceAccount))
        {
            return InCluster(environment, serviceAccount);
        }

        if (environment("KUBECONFIG") is { Length: > 0 } list)
        {
            var paths = list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Where(File.Exists).ToList();
            if (paths.Count == 0)
            {
                throw new KubeConfigException($"none of the files KUBECONFIG names exists ({list})");
            }

            return FromFiles(paths, context);
        }

        var home = environment("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var fallback = Path.Combine(home, ".kube", "config");
        if (!File.Exists(fallback))
        {
            throw new KubeConfigException($"no Kubernetes configuration: not in a pod, KUBECONFIG is not set and {fallback} does not exist (use --kubeconfig)");
        }

        return FromFiles([fallback], context);
    }

    /// <summary>In a pod: the service host and port in the environment, and the service account's token beside its CA.</summary>
    internal static bool IsInCluster(Func<string, string?> environment, string serviceAccount) =>
        environment("KUBERNETES_SERVICE_HOST") is { Length: > 0 }
        && environment("KUBERNETES_SERVICE_PORT") is { Length: > 0 }
        && File.Exists(Path.Combine(serviceAccount, "token"));

    internal static KubeConnection InCluster(Func<string, string?> environment, string serviceAccount)
    {
        var host = environment("KUBERNETES_SERVICE_HOST")!;
        var port = environment("KUBERNETES_SERVICE_PORT")!;
        if (!int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw new KubeConfigException($"KUBERNETES_SERVICE_PORT is not a port: '{port}'");
        }

        // An IPv6 service address needs brackets in a URI.
        var authority = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
        var ca = Path.Combine(serviceAccount, "ca.crt");
        var ns = Path.Combine(serviceAccount, "namespace");
        return new KubeConnection
        {
            Server = new Uri($"https://{authority}:{number}/"),
            CertificateAuthority = File.Exists(ca) ? Certificates(File.ReadAllText(ca), SourceLocation.FileStart(ca)) : null,
            TokenFile = Path.Combine(serviceAccount, "token"),
            Namespace = File.Exists(ns) ? File.ReadAllText(ns).Trim() : null,
        };
    }

    /// <summary>The connection a context of these kubeconfig files describes (their current context when none is named).</summary>
    public static KubeConnection FromFiles(IReadOnlyList<string> paths, string? context)
    {
        var files = paths.Select(Read).ToList();
        var contexts = Named(files, "contexts", "context");
        var clusters = Named(files, "clusters", "cluster");
        var users = Named(files, "users", "user");

        var wanted = context ?? files.Select(f => f.Root.GetString("current-context")).FirstOrDefault(c => !string.IsNullOrEmpty(c));
        if (wanted is null)
        {
            throw Problem(SourceLocation.FileStart(files[0].Path), Codes.MissingField, "the kubeconfig sets no current-context; name one with --context");
        }

        if (!contexts.TryGetValue(wanted, out var chosen))
        {
            var at = context is null ? files.Select(f => f.Root.KeyNode("current-context")?.Location).FirstOrDefault(l => l is not null) : null;
            throw Problem(at ?? SourceLocation.FileStart(files[0].Path), Codes.InvalidValue, $"context '{wanted}' is not defined in the kubeconfig");
        }

        var clusterName = Required(chosen, "cluster");
        if (!clusters.TryGetValue(clusterName.Value, out var cluster))
        {
            throw Problem(clusterName.Location, Codes.InvalidValue, $"context '{wanted}' names cluster '{clusterName.Value}', which is not defined");
        }

        var user = new Entry(string.Empty, MappingNode.Empty, chosen.File);
        if (chosen.Body["user"] is ScalarNode { IsNull: false } userName && !string.IsNullOrEmpty(userName.Value))
        {
            if (!users.TryGetValue(userName.Value, out user!))
            {
                throw Problem(userName.Location, Codes.InvalidValue, $"context '{wanted}' names user '{userName.Value}', which is not defined");
            }
        }

        return Connection(cluster, user, chosen.Body.GetString("namespace"));
    }

    private static KubeConnection Connection(Entry cluster, Entry user, string? ns)
    {
        var server = Required(cluster, "server");
        if (!Uri.TryCreate(server.Value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw Problem(server.Location, Codes.InvalidValue, $"server '{server.Value}' is not an http(s) URL");
        }

        if (user.Body.KeyNode("auth-provider") is { } provider)
        {
            throw Problem(provider.Location, Codes.InvalidValue,
                $"user '{user.Name}' authenticates with an auth-provider, which Kubernetes removed in 1.26; use its exec credential plugin, a token, a tokenFile or a client certificate");
        }

        foreach (var impersonation in new[] { "as", "as-uid", "as-groups", "as-user-extra" })
        {
            if (user.Body.KeyNode(impersonation) is { } key)
            {
                throw Problem(key.Location, Codes.InvalidValue, $"user '{user.Name}' asks for impersonation ({impersonation}), which the agent does not do");
            }
        }

        Uri? proxy = null;
        if (cluster.Body["proxy-url"] is ScalarNode { IsNull: false } proxyNode && proxyNode.Value.Length > 0)
        {
            proxy = Uri.TryCreate(proxyNode.Value, UriKind.Absolute, out var p) && p.Scheme is "http" or "socks5"
                ? p
                : throw Problem(proxyNode.Location, Codes.InvalidValue, $"proxy-url '{proxyNode.Value}' is not an http:// or socks5:// URL");
        }

        var caPem = Bytes(cluster, "certificate-authority-data") ?? FileText(cluster, "certificate-authority");
        var ca = caPem is { } authority ? Certificates(authority.Text, authority.Location) : null;
        var skip = cluster.Body["insecure-skip-tls-verify"] is ScalarNode skipNode && skipNode.TryGetBool(out var s) && s;

        X509Certificate2? certificate = null;
        var certificateText = Bytes(user, "client-certificate-data") ?? FileText(user, "client-certificate");
        var keyText = Bytes(user, "client-key-data") ?? FileText(user, "client-key");
        if (certificateText is { } certPem)
        {
            if (keyText is not { } keyPem)
            {
                throw Problem(certPem.Location, Codes.MissingField, $"user '{user.Name}' has a client certificate but no client-key or client-key-data");
            }

            try
            {
                certificate = X509Certificate2.CreateFromPem(certPem.Text, keyPem.Text);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                throw Problem(certPem.Location, Codes.InvalidValue, $"user '{user.Name}': the client certificate and key cannot be read together ({ex.Message.TrimEnd('.')})");
            }
        }
        else if (keyText is { } lonelyKey)
        {
            throw Problem(lonelyKey.Location, Codes.MissingField, $"user '{user.Name}' has a client key but no client-certificate or client-certificate-data");
        }

        string? tokenFile = null;
        if (user.Body["tokenFile"] is ScalarNode { IsNull: false } tokenPath && tokenPath.Value.Length > 0)
        {
            tokenFile = Path.GetFullPath(tokenPath.Value, Path.GetDirectoryName(Path.GetFullPath(user.File))!);
            if (!File.Exists(tokenFile))
            {
                throw Problem(tokenPath.Location, Codes.FileNotFound, $"tokenFile '{tokenPath.Value}' does not exist");
            }
        }

        var exec = user.Body["exec"] is { } execNode ? Exec(user, execNode, uri, caPem?.Text, skip, cluster.Body.GetString("tls-server-name")) : null;
        var name = user.Body.GetString("username");
        var password = user.Body.GetString("password");
        return new KubeConnection
        {
            Server = uri,
            CertificateAuthority = ca,
            SkipTlsVerify = skip,
            TlsServerName = cluster.Body.GetString("tls-server-name"),
            ClientCertificate = certificate,
            Token = user.Body.GetString("token"),
            TokenFile = tokenFile,
            Basic = name is { Length: > 0 } ? (name, password ?? string.Empty) : null,
            Exec = exec,
            Proxy = proxy,
            Namespace = string.IsNullOrEmpty(ns) ? null : ns,
        };
    }

    /// <summary>The user's exec credential plugin: a command with arguments and environment, speaking client.authentication.k8s.io v1 or v1beta1.</summary>
    private static ExecCredentialPlugin Exec(Entry user, Node node, Uri server, string? caPem, bool skipTlsVerify, string? tlsServerName)
    {
        if (node is not MappingNode exec)
        {
            throw Problem(node.Location, Codes.WrongType, $"exec of user '{user.Name}' must be a mapping (command, args, env, apiVersion)");
        }

        var plugin = new Entry(user.Name, exec, user.File);
        var command = Required(plugin, "command", $"exec of user '{user.Name}'");
        var apiVersion = Required(plugin, "apiVersion", $"exec of user '{user.Name}'");
        if (apiVersion.Value is not ("client.authentication.k8s.io/v1" or "client.authentication.k8s.io/v1beta1"))
        {
            throw Problem(apiVersion.Location, Codes.InvalidValue, $"exec apiVersion '{apiVersion.Value}' is not client.authentication.k8s.io/v1 or v1beta1");
        }

        if (exec["interactiveMode"] is ScalarNode { Value: "Always" } always)
        {
            throw Problem(always.Location, Codes.InvalidValue, $"the credential plugin of user '{user.Name}' needs a terminal (interactiveMode: Always), and the agent has none");
        }

        var arguments = new List<string>();
        if (exec["args"] is SequenceNode args)
        {
            foreach (var item in args.Items)
            {
                arguments.Add(item is ScalarNode { IsNull: false } text ? text.Value : throw Problem(item.Location, Codes.WrongType, "each exec argument must be a string"));
            }
        }
        else if (exec["args"] is { } notList && notList is not ScalarNode { IsNull: true })
        {
            throw Problem(notList.Location, Codes.WrongType, "exec args must be a list of strings");
        }

        var environment = new List<KeyValuePair<string, string>>();
        if (exec["env"] is SequenceNode env)
        {
            foreach (var item in env.Items)
            {
                if (item is not MappingNode variable || variable.GetString("name") is not { Length: > 0 } variableName)
                {
                    throw Problem(item.Location, Codes.MissingField, "each exec env entry needs a name and a value");
                }

                environment.Add(new(variableName, variable.GetString("value") ?? string.Empty));
            }
        }
        else if (exec["env"] is { } notList && notList is not ScalarNode { IsNull: true })
        {
            throw Problem(notList.Location, Codes.WrongType, "exec env must be a list of {name, value}");
        }

        var provideClusterInfo = exec["provideClusterInfo"] is ScalarNode info && info.TryGetBool(out var provide) && provide;
        return new ExecCredentialPlugin
        {
            Command = command.Value,
            Arguments = arguments,
            Environment = environment,
            ApiVersion = apiVersion.Value,
            InstallHint = exec.GetString("installHint"),
            BaseDirectory = Path.GetDirectoryName(Path.GetFullPath(user.File)),
            Cluster = provideClusterInfo ? new ExecCredentialPlugin.ClusterInfo(server, caPem, skipTlsVerify, tlsServerName) : null,
        };
    }

    /// <summary>One named entry of a kubeconfig list: its body (the "cluster", "user" or "context" mapping) and the file it came from.</summary>
    private sealed record Entry(string Name, MappingNode Body, string File);

    private sealed record ConfigFile(string Path, MappingNode Root);

    private static ConfigFile Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"cannot read the kubeconfig {path}: {ex.Message}", ex);
        }

        var diagnostics = new DiagnosticBag();
        var documents = YamlReader.ReadDocuments(path, text, diagnostics);
        if (diagnostics.ToSortedList().FirstOrDefault(d => d.IsError) is { } error)
        {
            throw new KubeConfigException(error);
        }

        return documents.Count switch
        {
            0 => throw Problem(SourceLocation.FileStart(path), Codes.NotAnObject, "the kubeconfig is empty"),
            1 when documents[0] is MappingNode root => new ConfigFile(path, root),
            1 => throw Problem(documents[0]?.Location ?? SourceLocation.FileStart(path), Codes.WrongType, "a kubeconfig is a mapping (apiVersion: v1, kind: Config, clusters, users, contexts)"),
            _ => throw Problem(documents[1]?.Location ?? SourceLocation.FileStart(path), Codes.InvalidValue, "a kubeconfig holds one YAML document"),
        };
    }

    /// <summary>The entries of one list across the files; the first file to define a name wins, as in kubectl.</summary>
    private static Dictionary<string, Entry> Named(List<ConfigFile> files, string list, string body)
    {
        var found = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            switch (file.Root[list])
            {
                case null or ScalarNode { IsNull: true }:
                    continue;
                case SequenceNode items:
                    foreach (var item in items.Items)
                    {
                        if (item is not MappingNode entry || entry.GetString("name") is not { Length: > 0 } name)
                        {
                            throw Problem(item.Location, Codes.MissingField, $"each of {list} needs a name");
                        }

                        if (entry[body] is not MappingNode content)
                        {
                            throw Problem(entry.KeyNode(body)?.Location ?? item.Location, entry[body] is null ? Codes.MissingField : Codes.WrongType, $"{list} entry '{name}' needs a '{body}' mapping");
                        }

                        found.TryAdd(name, new Entry(name, content, file.Path));
                    }

                    break;
                case var other:
                    throw Problem(other.Location, Codes.WrongType, $"'{list}' must be a list");
            }
        }

        return found;
    }

    private static ScalarNode Required(Entry entry, string key, string? owner = null) =>
        entry.Body[key] is ScalarNode { IsNull: false } value && value.Value.Length > 0
            ? value
            : throw Problem(entry.Body.KeyNode(key)?.Location ?? entry.Body.Location, Codes.MissingField, $"{owner ?? $"'{entry.Name}'"} has no {key}");

    /// <summary>A *-data field: base64 of PEM text.</summary>
    private static (string Text, SourceLocation Location)? Bytes(Entry entry, string key)
    {
        if (entry.Body[key] is not ScalarNode { IsNull: false } value || value.Value.Length == 0)
        {
            return null;
        }

        try
        {
            return (System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(value.Value)), value.Location);
        }
        catch (FormatException)
        {
            throw Problem(value.Location, Codes.InvalidValue, $"{key} of '{entry.Name}' is not base64");
        }
    }

    /// <summary>A file field, relative to the kubeconfig that names it.</summary>
    private static (string Text, SourceLocation Location)? FileText(Entry entry, string key)
    {
        if (entry.Body[key] is not ScalarNode { IsNull: false } value || value.Value.Length == 0)
        {
            return null;
        }

        var path = Path.GetFullPath(value.Value, Path.GetDirectoryName(Path.GetFullPath(entry.File))!);
        try
        {
            return (File.ReadAllText(path), value.Location);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Problem(value.Location, Codes.FileNotFound, $"{key} '{value.Value}' cannot be read: {ex.Message}");
        }
    }

    private static X509Certificate2Collection Certificates(string pem, SourceLocation location)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            throw Problem(location, Codes.InvalidValue, $"the certificate authority is not PEM certificates ({ex.Message.TrimEnd('.')})");
        }

        return roots.Count > 0 ? roots : throw Problem(location, Codes.InvalidValue, "the certificate authority holds no PEM certificate");
    }

    private static KubeConfigException Problem(SourceLocation location, string code, string message) =>
        new(new Diagnostic(location, Severity.Error, code, message));
}

using System.Text.Json;

namespace EdgeOps.Trust.Sigstore;

/// <summary>A closed time range (both ends inclusive); an open end runs forever.</summary>
public sealed record TimeWindow(DateTimeOffset Start, DateTimeOffset? End)
{
    public static readonly TimeWindow Always = new(DateTimeOffset.MinValue, null);

    public bool Contains(DateTimeOffset time) => Start <= time && (End is null || time <= End);

    public override string ToString() =>
        $"{(Start == DateTimeOffset.MinValue ? "-∞" : Start.ToString("O"))} … {(End is { } end ? end.ToString("O") : "∞")}";
}

/// <summary>A transparency log (Rekor) or certificate transparency log known to the trusted root.</summary>
public sealed record TransparencyLogKey(string BaseUrl, byte[] LogId, SigstoreKey Key, TimeWindow ValidFor)
{
    public string LogIdHex => Convert.ToHexStringLower(LogId);
}

/// <summary>A certificate authority (Fulcio) or timestamp authority with its chain, issuing certificate first.</summary>
public sealed class CertificateAuthority
{
    internal CertificateAuthority(string uri, IReadOnlyList<Certificate> chain, TimeWindow validFor)
    {
        Uri = uri;
        Chain = chain;
        ValidFor = validFor;
    }

    public string Uri { get; }

    public TimeWindow ValidFor { get; }

    internal IReadOnlyList<Certificate> Chain { get; }
}

/// <summary>
/// The keys and certificates a verifier trusts, in Sigstore's <c>trusted_root.json</c> format. The chains of
/// the authorities are checked when the root is read, so verification only has to link a leaf to them.
/// </summary>
public sealed class TrustedRoot
{
    private static readonly Lazy<TrustedRoot> PublicGoodRoot = new(() =>
    {
        using var stream = typeof(TrustedRoot).Assembly.GetManifestResourceStream("EdgeOps.Trust.Sigstore.public-good-trusted-root.json")
            ?? throw new InvalidOperationException("the built-in public-good trusted root is missing from the assembly");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    });

    private TrustedRoot(
        IReadOnlyList<TransparencyLogKey> transparencyLogs,
        IReadOnlyList<TransparencyLogKey> certificateTransparencyLogs,
        IReadOnlyList<CertificateAuthority> certificateAuthorities,
        IReadOnlyList<CertificateAuthority> timestampAuthorities)
    {
        TransparencyLogs = transparencyLogs;
        CertificateTransparencyLogs = certificateTransparencyLogs;
        CertificateAuthorities = certificateAuthorities;
        TimestampAuthorities = timestampAuthorities;
    }

    /// <summary>Sigstore's public-good production instance (Fulcio, Rekor, CT log, TSA), built in.</summary>
    public static TrustedRoot PublicGood => PublicGoodRoot.Value;

    public IReadOnlyList<TransparencyLogKey> TransparencyLogs { get; }

    public IReadOnlyList<TransparencyLogKey> CertificateTransparencyLogs { get; }

    public IReadOnlyList<CertificateAuthority> CertificateAuthorities { get; }

    public IReadOnlyList<CertificateAuthority> TimestampAuthorities { get; }

    /// <summary>Reads a trusted root; a malformed one throws <see cref="FormatException"/> with the JSON path.</summary>
    public static TrustedRoot Parse(string json)
    {
        try
        {
            using var document = ProtoJson.Parse(System.Text.Encoding.UTF8.GetBytes(json), BundleFailure.Malformed, "trusted root");
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new BundleException(BundleFailure.Malformed, "a trusted root must be a JSON object");
            }

            var mediaType = ProtoJson.OptionalString(root, "mediaType", "$");
            if (mediaType is not null && !mediaType.StartsWith("application/vnd.dev.sigstore.trustedroot", StringComparison.Ordinal))
            {
                throw new BundleException(BundleFailure.Malformed, $"$.mediaType: not a trusted root: {mediaType}");
            }

            return new TrustedRoot(
                Logs(root, "tlogs"),
                Logs(root, "ctlogs"),
                Authorities(root, "certificateAuthorities"),
                Authorities(root, "timestampAuthorities"));
        }
        catch (BundleException e)
        {
            throw new FormatException($"trusted root: {e.Message}", e);
        }
        catch (NotSupportedException e)
        {
            throw new FormatException($"trusted root: a certificate authority's key: {e.Message}", e);
        }
    }

    internal TransparencyLogKey? FindTransparencyLog(ReadOnlySpan<byte> logId) => Find(TransparencyLogs, logId);

    internal TransparencyLogKey? FindCertificateTransparencyLog(ReadOnlySpan<byte> logId) => Find(CertificateTransparencyLogs, logId);

    private static TransparencyLogKey? Find(IReadOnlyList<TransparencyLogKey> logs, ReadOnlySpan<byte> logId)
    {
        foreach (var log in logs)
        {
            if (log.LogId.AsSpan().SequenceEqual(logId))
            {
                return log;
            }
        }

        return null;
    }

    private static List<TransparencyLogKey> Logs(JsonElement root, string name)
    {
        var logs = new List<TransparencyLogKey>();
        var keysById = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var entries = ProtoJson.Array(root, name, "$");
        for (var i = 0; i < entries.Count; i++)
        {
            var path = $"$.{name}[{i}]";
            var publicKey = ProtoJson.Object(entries[i], "publicKey", path);
            var raw = ProtoJson.OptionalBytes(publicKey, "rawBytes", path + ".publicKey");
            if (raw is null)
            {
                continue; // a key announced without its bytes cannot verify anything
            }

            SigstoreKey key;
            try
            {
                key = SigstoreKey.FromRawBytes(raw, ProtoJson.OptionalString(publicKey, "keyDetails", path + ".publicKey"));
            }
            catch (NotSupportedException)
            {
                continue; // a log with a key type this verifier does not know cannot vouch for anything here
            }
            catch (FormatException e)
            {
                throw new BundleException(BundleFailure.Malformed, $"{path}.publicKey.rawBytes: {e.Message}");
            }

            if (ProtoJson.OptionalString(entries[i], "hashAlgorithm", path) is { } hash && hash is not ("SHA2_256" or "SHA2_384" or "SHA2_512"))
            {
                throw new BundleException(BundleFailure.Malformed, $"{path}.hashAlgorithm '{hash}' is not a hash this verifier knows (SHA2_256, SHA2_384, SHA2_512)");
            }

            var logId = ProtoJson.Bytes(ProtoJson.Object(entries[i], "logId", path), "keyId", path + ".logId");
            if (!keysById.TryAdd(Convert.ToHexStringLower(logId), raw) && !keysById[Convert.ToHexStringLower(logId)].AsSpan().SequenceEqual(raw))
            {
                throw new BundleException(BundleFailure.Malformed, $"{path}.logId is also the ID of another {name} entry with a different key; a log ID must name one key");
            }

            logs.Add(new TransparencyLogKey(ProtoJson.OptionalString(entries[i], "baseUrl", path) ?? "", logId, key, Window(publicKey, path + ".publicKey")));
        }

        return logs;
    }

    private static List<CertificateAuthority> Authorities(JsonElement root, string name)
    {
        var authorities = new List<CertificateAuthority>();
        var entries = ProtoJson.Array(root, name, "$");
        for (var i = 0; i < entries.Count; i++)
        {
            var path = $"$.{name}[{i}]";
            var certificates = ProtoJson.Array(ProtoJson.Object(entries[i], "certChain", path), "certificates", path + ".certChain");
            if (certificates.Count == 0)
            {
                throw new BundleException(BundleFailure.Malformed, $"{path}.certChain has no certificates");
            }

            var chain = new List<Certificate>();
            for (var c = 0; c < certificates.Count; c++)
            {
                var certificatePath = $"{path}.certChain.certificates[{c}]";
                try
                {
                    chain.Add(Certificate.Parse(ProtoJson.Bytes(certificates[c], "rawBytes", certificatePath)));
                }
                catch (FormatException e)
                {
                    throw new BundleException(BundleFailure.Malformed, $"{certificatePath}: {e.Message}");
                }
            }

            for (var c = 0; c < chain.Count; c++)
            {
                var last = c + 1 == chain.Count;
                if (last && !chain[c].IsSelfIssued)
                {
                    break; // the chain ends at an intermediate: that intermediate is the trust anchor
                }

                var issuer = last ? chain[c] : chain[c + 1];
                if (!chain[c].IsSignedBy(issuer))
                {
                    throw new BundleException(BundleFailure.Malformed, $"{path}.certChain: certificate {c} ({chain[c]}) is not signed by {(c + 1 < chain.Count ? $"certificate {c + 1}" : "itself")}");
                }
            }

            authorities.Add(new CertificateAuthority(ProtoJson.OptionalString(entries[i], "uri", path) ?? "", chain, Window(entries[i], path)));
        }

        return authorities;
    }

    private static TimeWindow Window(JsonElement parent, string path)
    {
        // Required: a root that does not say when a key or authority is valid cannot be read as "always".
        var validFor = ProtoJson.OptionalObject(parent, "validFor", path)
            ?? throw new BundleException(BundleFailure.Malformed, $"{path} has no validFor; every key and authority of a trusted root must say when it is valid");

        // A window with no start is not "valid since forever": it is a root someone got wrong.
        var start = ProtoJson.OptionalString(validFor, "start", path + ".validFor")
            ?? throw new BundleException(BundleFailure.Malformed, $"{path}.validFor has no start; a validity window must say when it begins");
        var end = ProtoJson.OptionalString(validFor, "end", path + ".validFor");
        return new TimeWindow(
            ProtoJson.Timestamp(start, path + ".validFor.start"),
            end is null ? null : ProtoJson.Timestamp(end, path + ".validFor.end"));
    }
}

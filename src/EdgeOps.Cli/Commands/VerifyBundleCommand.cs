using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using EdgeOps.Fleet.Sources;
using EdgeOps.Trust.Sigstore;

namespace EdgeOps.Cli.Commands;

/// <summary>
/// <c>edgeops verify-bundle</c>: verifies a Sigstore bundle over a file or a <c>sha256:</c> digest, offline,
/// with the command line of the sigstore-conformance suite. Exit 0 verified, 1 rejected (reason on stderr),
/// 2 when an input cannot be read.
/// </summary>
internal static class VerifyBundleCommand
{
    public static Command Create(CliContext context)
    {
        var artifact = new Argument<string>("FILE_OR_DIGEST") { Description = "The signed file, or its digest as sha256:<64 hex>" };
        var bundle = new Option<string>("--bundle") { Description = "The Sigstore bundle (.sigstore.json)", Required = true };
        var identity = new Option<string?>("--certificate-identity") { Description = "The signer's identity (certificate SAN), exactly" };
        var identityRegex = new Option<string?>("--certificate-identity-regexp") { Description = "The signer's identity, as a regular expression over the whole SAN" };
        var issuer = new Option<string?>("--certificate-oidc-issuer") { Description = "The OIDC issuer that vouched for the identity, exactly" };
        var issuerRegex = new Option<string?>("--certificate-oidc-issuer-regexp") { Description = "The OIDC issuer, as a regular expression" };
        var key = new Option<string?>("--key") { Description = "Verify a key-based bundle with this PEM public key" };
        var trustedRoot = new Option<string?>("--trusted-root") { Description = "trusted_root.json to trust (default: the Sigstore public-good instance)" };
        var output = new Option<string>("--output", "-o") { Description = "text or json", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");

        var command = new Command("verify-bundle", "Verify a Sigstore bundle for a file or digest")
        {
            artifact, bundle, identity, identityRegex, issuer, issuerRegex, key, trustedRoot, output,
        };
        command.SetAction((parse, _) => Task.FromResult(Run(context, new Request(
            parse.GetValue(artifact)!,
            parse.GetValue(bundle)!,
            parse.GetValue(identity),
            parse.GetValue(identityRegex),
            parse.GetValue(issuer),
            parse.GetValue(issuerRegex),
            parse.GetValue(key),
            parse.GetValue(trustedRoot),
            parse.GetValue(output) == "json"))));
        return command;
    }

    internal sealed record Request(
        string Artifact, string Bundle, string? Identity, string? IdentityRegex, string? Issuer, string? IssuerRegex,
        string? Key, string? TrustedRoot, bool Json);

    internal static int Run(CliContext context, Request request)
    {
        VerificationPolicy policy;
        try
        {
            policy = Policy(request);
        }
        catch (UnusableKeyException e)
        {
            // The key is the verification material: a key that cannot verify anything rejects the bundle.
            context.Error.WriteLine($"edgeops: bundle rejected ({BundleFailure.VerificationMaterial.Name()}): {e.Message}");
            return ExitCodes.Invalid;
        }

        var root = request.TrustedRoot is { } rootPath ? ReadTrustedRoot(rootPath) : TrustedRoot.PublicGood;
        var artifact = ReadArtifact(request.Artifact);
        var bundle = ReadFile(request.Bundle, "bundle", Bundle.MaxSize);

        var verdict = new BundleVerifier(root).Verify(bundle, artifact, policy);
        if (request.Json)
        {
            var signature = verdict.Signature;
            context.Out.WriteLine(new JsonObject
            {
                ["verified"] = verdict.Verified,
                ["failure"] = verdict.Verified ? null : verdict.Failure.Name(),
                ["reason"] = verdict.Reason,
                ["identity"] = signature?.Identity,
                ["issuer"] = signature?.Issuer,
                ["key"] = signature?.KeyFingerprint,
                ["signingTimes"] = signature is null ? null : new JsonArray([.. signature.SigningTimes.Select(t => (JsonNode)t.ToString("O", CultureInfo.InvariantCulture))]),
                ["logIndexes"] = signature is null ? null : new JsonArray([.. signature.LogIndexes.Select(i => (JsonNode)i)]),
            }.ToJsonString());
        }

        if (!verdict.Verified)
        {
            context.Error.WriteLine($"edgeops: bundle rejected ({verdict.Failure.Name()}): {verdict.Reason}");
            return ExitCodes.Invalid;
        }

        if (!request.Json)
        {
            var signature = verdict.Signature!;
            var who = signature.Identity is not null ? $"{signature.Identity} (issuer {signature.Issuer})" : $"key sha256:{signature.KeyFingerprint}";
            var when = signature.SigningTimes.Count > 0 ? $", signed at {signature.SigningTimes[0]:O}" : "";
            context.Out.WriteLine($"verified: {who}{when}, log index {string.Join(", ", signature.LogIndexes)}");
        }

        return ExitCodes.Ok;
    }


    private static VerificationPolicy Policy(Request request)
    {
        var hasIdentity = request.Identity is not null || request.IdentityRegex is not null || request.Issuer is not null || request.IssuerRegex is not null;
        if (request.Key is { } keyPath)
        {
            if (hasIdentity)
            {
                throw new FleetSourceException("give either --key or the certificate identity options, not both");
            }

            try
            {
                return VerificationPolicy.ForKey(SigstoreKey.FromPem(System.Text.Encoding.UTF8.GetString(ReadFile(keyPath, "key", 1024 * 1024))));
            }
            catch (Exception e) when (e is FormatException or NotSupportedException)
            {
                throw new UnusableKeyException($"{keyPath}: not a usable PEM public key: {e.Message}");
            }
        }

        if ((request.Identity is null) == (request.IdentityRegex is null))
        {
            throw new FleetSourceException("give --certificate-identity or --certificate-identity-regexp (or --key for a key-based bundle)");
        }

        if ((request.Issuer is null) == (request.IssuerRegex is null))
        {
            throw new FleetSourceException("give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp");
        }

        try
        {
            return VerificationPolicy.ForIdentity(request.Identity, request.IdentityRegex, request.Issuer, request.IssuerRegex);
        }
        catch (ArgumentException e)
        {
            throw new FleetSourceException($"invalid identity pattern: {e.Message}");
        }
    }

    private static TrustedRoot ReadTrustedRoot(string path)
    {
        try
        {
            return TrustedRoot.Parse(System.Text.Encoding.UTF8.GetString(ReadFile(path, "trusted root", Bundle.MaxSize)));
        }
        catch (FormatException e)
        {
            throw new FleetSourceException($"{path}: {e.Message}");
        }
    }

    private static ArtifactInput ReadArtifact(string value)
    {
        if (ArtifactInput.LooksLikeDigest(value) && !File.Exists(value))
        {
            try
            {
                return ArtifactInput.FromDigest(value);
            }
            catch (FormatException e)
            {
                throw new FleetSourceException(e.Message);
            }
        }

        return ArtifactInput.FromBytes(ReadFile(value, "artifact", int.MaxValue));
    }

    private static byte[] ReadFile(string path, string what, long limit)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FleetSourceException($"{path}: {what} file not found");
        }

        if (info.Length > limit)
        {
            throw new FleetSourceException($"{path}: {what} file is larger than {limit / (1024 * 1024)} MiB");
        }

        return File.ReadAllBytes(path);
    }

    private sealed class UnusableKeyException(string message) : Exception(message);
}

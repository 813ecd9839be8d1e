using System.Data.Common;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EdgeOps.Reconciler.Status;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace EdgeOps.Collector;

/// <summary>Body of <c>GET /v1/fleet</c>: which fleet and revision the collector follows, and the head it does not follow because it has errors.</summary>
public sealed record FleetInfo(string Name, string Revision, string Repository, int Clusters, string? RejectedHead = null, string? RejectedBecause = null);

/// <summary>
/// The collector's HTTP face (ASP.NET Core, Kestrel): <c>POST /v1/reports</c>, <c>GET /v1/clusters</c>,
/// <c>GET /v1/rollouts[/{revision}]</c>, halt and resume, <c>GET /v1/fleet</c>, <c>/healthz</c> and the fleet page at
/// <c>/</c>. Endpoints are plain request delegates writing source-generated JSON.
/// </summary>
public static class CollectorHost
{
    /// <summary>Characters a halt's reason may have: a sentence for the people who read the rollout, not a log.</summary>
    public const int MaxHaltReasonLength = 1024;

    /// <summary>What a 503 for an unavailable database asks callers to wait (Retry-After).</summary>
    public const int DatabaseRetryAfterSeconds = 10;

    public static WebApplication Build(CollectorService service, IPEndPoint listen, LogLevel logLevel = LogLevel.Warning)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(logLevel);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            kestrel.Listen(listen);
        });
        var app = builder.Build();
        var outage = new DatabaseOutage(app.Logger, TimeProvider.System);
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (DbException ex) when (!context.Response.HasStarted)
            {
                // The database (PostgreSQL restarting, a full disk, a lock held too long) is the collector's outage, not
                // the caller's mistake: a 503 agents retry later, and one log line, not a stack trace per request.
                outage.Failed(ex);
                context.Response.Headers.RetryAfter = DatabaseRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ProblemAsync(context, 503, "the collector's database is unavailable; try again shortly").ConfigureAwait(false);
            }
        });
        Map(app, service);
        return app;
    }

    /// <summary>The address the collector listens on once started (the real port when 0 was asked for).</summary>
    public static Uri Address(WebApplication app) => new(app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal));

    private static void Map(IEndpointRouteBuilder app, CollectorService service)
    {
        app.MapPost("/v1/reports", async context =>
        {
            var max = service.Settings.MaxReportBytes;
            if (context.Request.ContentLength > max)
            {
                await ProblemAsync(context, 413, $"a report is at most {max} bytes; this one is {context.Request.ContentLength}").ConfigureAwait(false);
                return;
            }

            var body = await ReadLimitedAsync(context.Request.Body, max + 1, context.RequestAborted).ConfigureAwait(false);
            var result = await service.AcceptAsync(body, context.Request.Headers[CollectorClient.SignatureHeader].ToString(), context.RequestAborted).ConfigureAwait(false);
            if (result.Receipt is { Halted.IsEmpty: true, Rollout: null })
            {
                context.Response.StatusCode = 204; // accepted, nothing to tell the agent: the smallest answer
            }
            else if (result.Receipt is { } receipt)
            {
                await JsonAsync(context, receipt, CollectorJson.Default.ReportReceipt).ConfigureAwait(false);
            }
            else
            {
                await ProblemAsync(context, result.Status, result.Problem!).ConfigureAwait(false);
            }
        });

        app.MapGet("/v1/clusters", async context =>
        {
            var query = context.Request.Query;
            try
            {
                bool? stale = Value(query["stale"]) switch
                {
                    null => null,
                    "true" => true,
                    "false" => false,
                    var other => throw new FormatException($"stale '{other}' is not true or false"),
                };
                var rows = await service.ClustersAsync(Value(query["selector"]), Value(query["outcome"]), Value(query["wave"]), stale, context.RequestAborted).ConfigureAwait(false);
                await JsonAsync(context, rows, CollectorJson.Default.ListClusterRow).ConfigureAwait(false);
            }
            catch (FormatException ex)
            {
                await ProblemAsync(context, 400, ex.Message).ConfigureAwait(false);
            }
        });

        app.MapGet("/v1/rollouts", async context =>
        {
            var revisions = context.Request.Query["revision"].OfType<string>().Where(IsCommitId).Distinct(StringComparer.Ordinal).Take(32).ToList();
            var list = new List<RolloutStatus>(revisions.Count);
            foreach (var revision in revisions)
            {
                list.Add(await service.RolloutAsync(revision, context.RequestAborted).ConfigureAwait(false));
            }

            await JsonAsync(context, list, CollectorJson.Default.ListRolloutStatus).ConfigureAwait(false);
        });

        app.MapGet("/v1/rollouts/{revision}", async context =>
        {
            if (await RevisionAsync(context, service).ConfigureAwait(false) is not { } revision)
            {
                return;
            }

            await JsonAsync(context, await service.RolloutAsync(revision, context.RequestAborted).ConfigureAwait(false), CollectorJson.Default.RolloutStatus).ConfigureAwait(false);
        });

        app.MapPost("/v1/rollouts/{revision}/halt", async context =>
        {
            if (!await AuthorizedAsync(context, service).ConfigureAwait(false))
            {
                return;
            }

            var (request, problem) = await HaltRequestAsync(context).ConfigureAwait(false);
            if (problem is not null)
            {
                await ProblemAsync(context, 400, problem).ConfigureAwait(false);
                return;
            }

            if (await RevisionAsync(context, service).ConfigureAwait(false) is not { } revision)
            {
                return;
            }

            var status = await service.HaltAsync(revision, request?.Reason ?? "halted by the operator", "operator", context.RequestAborted).ConfigureAwait(false);
            await JsonAsync(context, status, CollectorJson.Default.RolloutStatus).ConfigureAwait(false);
        });

        app.MapPost("/v1/rollouts/{revision}/resume", async context =>
        {
            if (!await AuthorizedAsync(context, service).ConfigureAwait(false))
            {
                return;
            }

            if (await RevisionAsync(context, service).ConfigureAwait(false) is not { } revision)
            {
                return;
            }

            var status = await service.ResumeAsync(revision, context.RequestAborted).ConfigureAwait(false);
            await JsonAsync(context, status, CollectorJson.Default.RolloutStatus).ConfigureAwait(false);
        });

        app.MapGet("/v1/fleet", async context =>
        {
            var fleet = service.Fleet.Current;
            var rejected = service.Fleet.Rejected;
            await JsonAsync(context, new FleetInfo(fleet.FleetName, fleet.Revision, service.Fleet.DisplayUrl, fleet.ClusterList.Count, rejected?.Revision, rejected?.Problem), CollectorHostJson.Default.FleetInfo).ConfigureAwait(false);
        });

        app.MapGet("/healthz", context => context.Response.WriteAsync("ok", context.RequestAborted));

        app.MapGet("/", context => PageAsync(context, "index.html", "text/html; charset=utf-8"));
        app.MapGet("/fleet.js", context => PageAsync(context, "fleet.js", "text/javascript; charset=utf-8"));
        app.MapGet("/countries-110m.json", context => PageAsync(context, "countries-110m.json", "application/json"));
    }

    /// <summary>
    /// The body of a halt, if any: <c>{"reason": "…"}</c>, the reason at most <see cref="MaxHaltReasonLength"/>
    /// characters (it is shown on every operator's screen). Or why the body is not that.
    /// </summary>
    private static async Task<(HaltRequest? Request, string? Problem)> HaltRequestAsync(HttpContext context)
    {
        const string Shape = "send {\"reason\": \"…\"} or nothing";
        const int MaxBytes = 16 * 1024;
        var body = await ReadLimitedAsync(context.Request.Body, MaxBytes + 1, context.RequestAborted).ConfigureAwait(false);
        if (body.Length > MaxBytes)
        {
            return (null, $"the halt request is larger than {MaxBytes} bytes: {Shape}");
        }

        if (body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return (null, null); // a halt without a reason
        }

        HaltRequest? request;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, $"the halt request is a JSON {Kind(root)}, not an object: {Shape}");
            }

            if (root.TryGetProperty("reason", out var reason) && reason.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                return (null, $"the halt request's reason is a JSON {Kind(reason)}, not a string: {Shape}");
            }

            request = root.Deserialize(CollectorJson.Default.HaltRequest);
        }
        catch (JsonException ex)
        {
            return (null, $"the halt request is not valid JSON ({EdgeOps.Fleet.Diagnostics.JsonErrors.Describe(ex)}): {Shape}");
        }

        if (request?.Reason is { Length: > MaxHaltReasonLength } reasonText)
        {
            return (null, $"the halt reason is {reasonText.Length} characters; it may be at most {MaxHaltReasonLength}");
        }

        return (request, null);

        static string Kind(JsonElement element) => element.ValueKind.ToString().ToLowerInvariant();
    }

    /// <summary>The revision in the route (<c>current</c> is the fleet's head), or null after answering 400 for anything but a full commit id.</summary>
    private static async Task<string?> RevisionAsync(HttpContext context, CollectorService service)
    {
        var revision = (string)context.Request.RouteValues["revision"]!;
        revision = revision == "current" ? service.Fleet.Current.Revision : revision;
        if (IsCommitId(revision))
        {
            return revision;
        }

        await ProblemAsync(context, 400, $"'{revision}' is not a full commit id (40 or 64 lowercase hex digits) or 'current'").ConfigureAwait(false);
        return null;
    }

    /// <summary>A commit id as Git writes it in full: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.</summary>
    internal static bool IsCommitId(string revision) => revision.Length is 40 or 64 && revision.All(char.IsAsciiHexDigitLower);

    /// <summary>Halt and resume: the admin bearer token when one is configured, else only from loopback.</summary>
    private static async Task<bool> AuthorizedAsync(HttpContext context, CollectorService service)
    {
        var token = service.Settings.AdminToken;
        var ok = token is null
            ? context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote)
            : context.Request.Headers.Authorization.ToString() is var header && header.StartsWith("Bearer ", StringComparison.Ordinal)
                && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(header[7..].Trim()), System.Text.Encoding.UTF8.GetBytes(token));
        if (!ok)
        {
            await ProblemAsync(context, 403, token is null ? "halt and resume are allowed from loopback only (start the collector with --admin-token-file to allow them remotely)" : "halt and resume need the admin bearer token").ConfigureAwait(false);
        }

        return ok;
    }

    private static async Task PageAsync(HttpContext context, string name, string contentType)
    {
        await using var stream = typeof(CollectorHost).Assembly.GetManifestResourceStream("page/" + name)
            ?? throw new InvalidOperationException($"page resource {name} is missing from the build");
        context.Response.ContentType = contentType;
        context.Response.Headers.CacheControl = "no-cache";
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private static string? Value(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 || string.IsNullOrEmpty(values[0]) ? null : values[0];

    private static async Task<ReadOnlyMemory<byte>> ReadLimitedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(limit, 4096)];
        var length = 0;
        while (length < limit)
        {
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, Math.Min(limit, buffer.Length * 2));
            }

            var read = await body.ReadAsync(buffer.AsMemory(length, buffer.Length - length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        return buffer.AsMemory(0, length);
    }

    private static Task JsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> type)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted);
    }

    private static Task ProblemAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        var title = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
        return JsonSerializer.SerializeAsync(context.Response.Body, new ApiProblem(title, status, detail), CollectorJson.Default.ApiProblem, context.RequestAborted);
    }
}

/// <summary>
/// Logs an unavailable database once when it starts failing requests, then at most once a minute with how many
/// requests it failed meanwhile, however many requests arrive.
/// </summary>
internal sealed class DatabaseOutage(ILogger log, TimeProvider clock)
{
    public static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private DateTimeOffset? _lastLogged;
    private int _since;

    public void Failed(DbException ex)
    {
        int count;
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            _since++;
            if (_lastLogged is { } last && now - last < Quiet)
            {
                return;
            }

            count = _since;
            _since = 0;
            _lastLogged = now;
        }

        log.LogWarning("database unavailable, answering 503 ({Count} request(s) since the last such line): {Reason}", count, ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message);
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(FleetInfo))]
internal sealed partial class CollectorHostJson : System.Text.Json.Serialization.JsonSerializerContext;

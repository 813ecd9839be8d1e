using System.Collections.Concurrent;
using System.Text;
using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Fleet.Sources;

/// <summary>
/// Safe access to a fleet source: symbolic links are followed only inside the repository, files
/// over the size limit are refused, and text must be UTF-8. Every refusal is a located diagnostic.
/// The decoded texts are kept so that diagnostics can quote the offending line.
/// </summary>
public sealed class FleetFiles
{
    public const long DefaultMaxFileBytes = 4 * 1024 * 1024;
    private const int MaxLinkHops = 40;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly IFleetSource _source;
    private readonly ConcurrentDictionary<string, string> _texts = new(StringComparer.Ordinal);

    public FleetFiles(IFleetSource source, long maxFileBytes = DefaultMaxFileBytes)
    {
        _source = source;
        MaxFileBytes = maxFileBytes;
    }

    public long MaxFileBytes { get; }

    public IFleetSource Source => _source;

    /// <summary>Texts read so far, by path, for quoting source lines in diagnostics.</summary>
    public IReadOnlyDictionary<string, string> Texts => _texts;

    public static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Replace('\\', '/').Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count == 0 || parts[^1] == "..")
                {
                    parts.Add("..");
                }
                else
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }

    public static string Combine(string directory, string relative) =>
        relative.StartsWith('/') ? Normalize(relative) : Normalize(directory.Length == 0 ? relative : directory + "/" + relative);

    public static string DirectoryOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? string.Empty : path[..slash];
    }

    /// <summary>
    /// Follows symbolic links in every component of <paramref name="path"/>. Returns the entry it
    /// ends at, or null with <paramref name="error"/> set when it leaves the repository, loops or
    /// does not exist.
    /// </summary>
    public FleetEntry? Resolve(string path, out string? error)
    {
        error = null;
        var normalized = Normalize(path);
        if (normalized.Length == 0)
        {
            return new FleetEntry(string.Empty, FleetEntryKind.Directory, 0);
        }

        var hops = 0;
        var pending = new Queue<string>(normalized.Split('/'));
        var current = string.Empty;
        while (pending.Count > 0)
        {
            var part = pending.Dequeue();
            var candidate = current.Length == 0 ? part : current + "/" + part;
            if (candidate.StartsWith("..", StringComparison.Ordinal))
            {
                error = "points outside the repository";
                return null;
            }

            if (!_source.Entries.TryGetValue(candidate, out var entry))
            {
                error = "does not exist";
                return null;
            }

            if (entry.Kind == FleetEntryKind.Symlink)
            {
                if (++hops > MaxLinkHops)
                {
                    error = "is a symbolic link loop";
                    return null;
                }

                var target = entry.LinkTarget ?? string.Empty;
                if (target.StartsWith('/'))
                {
                    error = $"is a symbolic link to an absolute path ({target}) outside the repository";
                    return null;
                }

                var resolved = Combine(DirectoryOf(candidate), target);
                if (resolved.StartsWith("..", StringComparison.Ordinal))
                {
                    error = $"is a symbolic link that points outside the repository ({target})";
                    return null;
                }

                if (resolved.Length == 0)
                {
                    error = $"is a symbolic link to the repository root ({target}), which would make the fleet contain itself";
                    return null;
                }

                var rest = pending.ToArray();
                pending.Clear();
                foreach (var p in resolved.Split('/', StringSplitOptions.RemoveEmptyEntries))
                {
                    pending.Enqueue(p);
                }

                foreach (var p in rest)
                {
                    pending.Enqueue(p);
                }

                current = string.Empty;
                continue;
            }

            if (entry.Kind == FleetEntryKind.File && pending.Count > 0)
            {
                error = "does not exist";
                return null;
            }

            current = candidate;
        }

        if (_source.Entries.TryGetValue(current, out var final))
        {
            return final;
        }

        error = "does not exist";
        return null;
    }

    /// <summary>
    /// Reads a file as UTF-8 text, following links inside the repository. Reports and returns null
    /// when the file is too large, not UTF-8, or a link leaves the repository.
    /// </summary>
    public string? ReadText(string path, DiagnosticBag diagnostics)
    {
        if (_texts.TryGetValue(path, out var cached))
        {
            return cached;
        }

        var location = SourceLocation.FileStart(path);
        var entry = Resolve(path, out var error);
        if (entry is null)
        {
            diagnostics.Error(location, error!.Contains("outside", StringComparison.Ordinal) ? Codes.SymlinkOutsideRepo : Codes.IoError,
                $"'{path}' {error}");
            return null;
        }

        if (entry.Kind != FleetEntryKind.File)
        {
            diagnostics.Error(location, Codes.IoError, entry.Kind == FleetEntryKind.Special
                ? $"'{path}' is a FIFO, socket or device, not a regular file; refused"
                : $"'{path}' is not a file");
            return null;
        }

        if (entry.Size > MaxFileBytes)
        {
            diagnostics.Error(location, Codes.FileTooLarge,
                $"file is {entry.Size:N0} bytes, over the limit of {MaxFileBytes:N0} bytes");
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = _source.ReadAllBytes(entry.Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(location, Codes.IoError, $"cannot read '{path}': {ex.Message}");
            return null;
        }

        var text = Decode(path, bytes, diagnostics);
        if (text is not null)
        {
            _texts[path] = text;
        }

        return text;
    }

    private static string? Decode(string path, byte[] bytes, DiagnosticBag diagnostics)
    {
        ReadOnlySpan<byte> span = bytes;
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            span = span[3..];
        }
        else if (span.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || span.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            diagnostics.Error(SourceLocation.FileStart(path), Codes.InvalidUtf8, "file is UTF-16; fleet files must be UTF-8");
            return null;
        }

        try
        {
            var text = StrictUtf8.GetString(span);
            var nul = text.IndexOf('\0', StringComparison.Ordinal);
            if (nul >= 0)
            {
                diagnostics.Error(LocateOffset(path, text, nul), Codes.InvalidUtf8, "file contains a NUL character; it looks binary, not YAML text");
                return null;
            }

            return text;
        }
        catch (DecoderFallbackException ex)
        {
            var valid = ex.Index >= 0 ? StrictUtf8.GetString(span[..FindInvalidOffset(span)]) : string.Empty;
            diagnostics.Error(LocateOffset(path, valid, valid.Length), Codes.InvalidUtf8,
                $"file is not valid UTF-8 (invalid byte 0x{span[FindInvalidOffset(span)]:X2})");
            return null;
        }
    }

    private static int FindInvalidOffset(ReadOnlySpan<byte> span)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(span, new char[span.Length], out var read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? span.Length : read;
    }

    private static SourceLocation LocateOffset(string path, string text, int offset)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < offset && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return new SourceLocation(path, line, offset - lineStart + 1);
    }
}

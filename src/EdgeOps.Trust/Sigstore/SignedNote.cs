using System.Globalization;
using System.Text;

namespace EdgeOps.Trust.Sigstore;

/// <summary>
/// A transparency log checkpoint in the C2SP signed-note form: origin, tree size and root hash lines (then any
/// extension lines), a blank line, and one or more "— name base64(keyhint ‖ signature)" lines. Signatures
/// from keys the verifier does not know (witness cosignatures) are ignored, wherever they appear.
/// </summary>
internal sealed record SignedNote(string Text, string Origin, long TreeSize, byte[] RootHash, IReadOnlyList<NoteSignature> Signatures)
{
    private const int MaxSignatures = 64;

    public static SignedNote Parse(string envelope)
    {
        var split = envelope.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new BundleException(BundleFailure.Checkpoint, "checkpoint has no blank line between its text and its signatures");
        }

        var text = envelope[..(split + 1)];
        var lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            throw new BundleException(BundleFailure.Checkpoint, "checkpoint must start with origin, tree size and root hash lines");
        }

        var origin = lines[0];
        if (origin.Length == 0)
        {
            throw new BundleException(BundleFailure.Checkpoint, "checkpoint origin line is empty");
        }

        if (lines[1].Length == 0 || !lines[1].All(char.IsAsciiDigit) ||
            !long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new BundleException(BundleFailure.Checkpoint, $"checkpoint tree size line is not a number: '{Shorten(lines[1])}' (is the origin line missing?)");
        }

        byte[] root;
        try
        {
            root = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            throw new BundleException(BundleFailure.Checkpoint, "checkpoint root hash line is not base64");
        }

        // The signature block is one or more lines, each ended by a newline: no blank line, no repeat.
        var block = envelope[(split + 2)..];
        if (!block.EndsWith('\n'))
        {
            throw new BundleException(BundleFailure.Checkpoint, "checkpoint does not end with a newline");
        }

        var signatures = new List<NoteSignature>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in block[..^1].Split('\n'))
        {
            if (line.Length == 0)
            {
                throw new BundleException(BundleFailure.Checkpoint, "checkpoint has a blank line among its signature lines");
            }

            if (!seen.Add(line))
            {
                throw new BundleException(BundleFailure.Checkpoint, "checkpoint repeats a signature line");
            }

            if (!line.StartsWith("\u2014 ", StringComparison.Ordinal))
            {
                throw new BundleException(BundleFailure.Checkpoint, $"checkpoint signature line does not start with '— ': '{Shorten(line)}'");
            }

            var space = line.IndexOf(' ', 2);
            if (space < 0)
            {
                throw new BundleException(BundleFailure.Checkpoint, $"checkpoint signature line has no signature: '{Shorten(line)}'");
            }

            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(line[(space + 1)..]);
            }
            catch (FormatException)
            {
                throw new BundleException(BundleFailure.Checkpoint, $"checkpoint signature of {line[2..space]} is not base64");
            }

            if (blob.Length < 5)
            {
                throw new BundleException(BundleFailure.Checkpoint, $"checkpoint signature of {line[2..space]} is too short");
            }

            signatures.Add(new NoteSignature(line[2..space], blob[..4], blob[4..]));
            if (signatures.Count > MaxSignatures)
            {
                throw new BundleException(BundleFailure.Checkpoint, $"checkpoint has more than {MaxSignatures} signatures");
            }
        }

        if (signatures.Count == 0)
        {
            throw new BundleException(BundleFailure.Checkpoint, "checkpoint is not signed");
        }

        return new SignedNote(text, origin, size, root, signatures);
    }

    /// <summary>
    /// True when some signature line carries the log's key hint (and, when the log's name is known, its name)
    /// and verifies under its key.
    /// </summary>
    public bool IsSignedBy(TransparencyLogKey log, string? name)
    {
        var body = Encoding.UTF8.GetBytes(Text);
        var hint = log.LogId[..Math.Min(4, log.LogId.Length)];
        return Signatures.Any(s => (name is null || s.Name == name) && s.KeyHint.AsSpan().SequenceEqual(hint) && log.Key.VerifyData(body, s.Signature));
    }

    /// <summary>
    /// The name a log signs its checkpoints with: the authority (host[:port]) of its base URL, which is also
    /// its origin line ("host" for Rekor v2 logs, "host - treeID" for Rekor v1 shards). Null when unknown.
    /// </summary>
    public static string? LogName(TransparencyLogKey log) =>
        Uri.TryCreate(log.BaseUrl, UriKind.Absolute, out var url) && url.Authority.Length > 0 ? url.Authority : null;

    /// <summary>True when the origin line names the log: its name, or its name followed by " - " and a tree ID.</summary>
    public bool HasOrigin(string name) =>
        Origin == name || (Origin.StartsWith(name + " - ", StringComparison.Ordinal) && Origin.Length > name.Length + 3);

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "…" : text;
}

internal sealed record NoteSignature(string Name, byte[] KeyHint, byte[] Signature);

using System.Globalization;

namespace EdgeOps.Trust.Ssh;

/// <summary>One line of an allowed_signers file.</summary>
public sealed record AllowedSigner(IReadOnlyList<string> Principals, SshPublicKey Key, IReadOnlyList<string>? Namespaces, DateTimeOffset? ValidAfter, DateTimeOffset? ValidBefore, int Line)
{
    public bool Allows(string @namespace, DateTimeOffset when) =>
        (Namespaces is null || Namespaces.Any(n => n == @namespace || n == "*"))
        && (ValidAfter is null || when >= ValidAfter)
        && (ValidBefore is null || when < ValidBefore);

    public bool Matches(string principal) => Principals.Any(p => p == "*" || p == principal || (p.StartsWith("*@", StringComparison.Ordinal) && principal.EndsWith(p[1..], StringComparison.Ordinal)));
}

/// <summary>A line of an allowed_signers file that could not be read.</summary>
public sealed record AllowedSignersProblem(int Line, string Message)
{
    public override string ToString() => $"line {Line}: {Message}";
}

/// <summary>
/// git's gpg.ssh.allowedSignersFile format (ssh-keygen ALLOWED SIGNERS): principals, options
/// (namespaces=, valid-after=, valid-before=), key type and key. Bad lines are reported with their
/// number, not skipped silently.
/// </summary>
public sealed class AllowedSigners
{
    private AllowedSigners(IReadOnlyList<AllowedSigner> signers, IReadOnlyList<AllowedSignersProblem> problems)
    {
        Signers = signers;
        Problems = problems;
    }

    public IReadOnlyList<AllowedSigner> Signers { get; }

    /// <summary>Each line that could not be read, and why.</summary>
    public IReadOnlyList<AllowedSignersProblem> Problems { get; }

    public static AllowedSigners Parse(string text)
    {
        var signers = new List<AllowedSigner>();
        var problems = new List<AllowedSignersProblem>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            try
            {
                signers.Add(ParseLine(line, number));
            }
            catch (FormatException ex)
            {
                problems.Add(new AllowedSignersProblem(number, ex.Message));
            }
        }

        return new AllowedSigners(signers, problems);
    }

    private static AllowedSigner ParseLine(string line, int number)
    {
        var fields = Tokenize(line);
        if (fields.Count < 3)
        {
            throw new FormatException("expected principals, [options,] key type and key");
        }

        var principals = fields[0].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Trim('"')).ToList();
        var index = 1;
        IReadOnlyList<string>? namespaces = null;
        DateTimeOffset? after = null;
        DateTimeOffset? before = null;
        if (!fields[1].StartsWith("ssh-", StringComparison.Ordinal) && !fields[1].StartsWith("ecdsa-", StringComparison.Ordinal))
        {
            foreach (var option in SplitOptions(fields[1]))
            {
                var eq = option.IndexOf('=', StringComparison.Ordinal);
                var name = (eq < 0 ? option : option[..eq]).ToLowerInvariant();
                var value = eq < 0 ? string.Empty : option[(eq + 1)..].Trim('"');
                switch (name)
                {
                    case "namespaces":
                        namespaces = value.Split(',', StringSplitOptions.RemoveEmptyEntries);
                        break;
                    case "valid-after":
                        after = Time(value);
                        break;
                    case "valid-before":
                        before = Time(value);
                        break;
                    case "cert-authority":
                        throw new FormatException("cert-authority keys are not supported");
                    default:
                        throw new FormatException($"unknown option '{name}'");
                }
            }

            index = 2;
        }

        if (fields.Count < index + 2)
        {
            throw new FormatException("missing key");
        }

        return new AllowedSigner(principals, SshPublicKey.Parse(fields[index], fields[index + 1]), namespaces, after, before, number);
    }

    /// <summary>YYYYMMDD[HHMM[SS]], local time unless it ends in Z (as ssh-keygen reads it); taken as UTC here.</summary>
    private static DateTimeOffset Time(string value)
    {
        var text = value.TrimEnd('Z', 'z');
        string[] formats = ["yyyyMMdd", "yyyyMMddHHmm", "yyyyMMddHHmmss"];
        return DateTimeOffset.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : throw new FormatException($"'{value}' is not a time (YYYYMMDD[HHMM[SS]][Z])");
    }

    private static List<string> Tokenize(string line)
    {
        var tokens = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
                current.Append(c);
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (current.Length > 0)
                {
                    tokens.Add(current.ToString());
                    current.Clear();
                }
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.Length > 0)
        {
            tokens.Add(current.ToString());
        }

        return tokens;
    }

    private static IEnumerable<string> SplitOptions(string options)
    {
        var current = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in options)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }

            if (c == ',' && !quoted)
            {
                yield return current.ToString();
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }
}

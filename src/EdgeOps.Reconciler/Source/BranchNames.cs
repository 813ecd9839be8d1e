namespace EdgeOps.Reconciler.Source;

/// <summary>
/// git's rules for a branch name (git check-ref-format --branch), checked where an operator gives one,
/// so that a typo is a usage error in words instead of a sync that fails on every pass.
/// </summary>
public static class BranchNames
{
    /// <summary>Returns null when <paramref name="name"/> can name a branch, else why not.</summary>
    public static string? Check(string name)
    {
        if (name.Length == 0)
        {
            return "is empty";
        }

        if (name.StartsWith('-'))
        {
            return "begins with '-'";
        }

        if (name == "@")
        {
            return "is '@', which git reserves";
        }

        foreach (var c in name)
        {
            if (char.IsControl(c) || c is ' ' or '~' or '^' or ':' or '?' or '*' or '[' or '\\')
            {
                return char.IsControl(c)
                    ? "holds a control character"
                    : $"holds '{c}' (git refuses space, ~ ^ : ? * [ and \\ in branch names)";
            }
        }

        if (name.Contains("..", StringComparison.Ordinal))
        {
            return "holds '..'";
        }

        if (name.Contains("@{", StringComparison.Ordinal))
        {
            return "holds '@{'";
        }

        if (name.EndsWith('.'))
        {
            return "ends with '.'";
        }

        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0)
            {
                return "begins or ends with '/', or holds '//'";
            }

            if (part.StartsWith('.'))
            {
                return $"has a part that begins with '.' ('{part}')";
            }

            if (part.EndsWith(".lock", StringComparison.Ordinal))
            {
                return $"has a part that ends with '.lock' ('{part}')";
            }
        }

        return null;
    }
}

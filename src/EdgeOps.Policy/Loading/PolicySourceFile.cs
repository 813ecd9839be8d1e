namespace EdgeOps.Policy.Loading;

/// <summary>The text of one policy file and the name to show for it.</summary>
public sealed record PolicySourceFile(string DisplayPath, string Text, bool BuiltIn = false)
{
    public static PolicySourceFile BuiltInPolicy(string name) =>
        new($"policies/{name}.js", Sandbox.BuiltInModules.PolicySource(name), BuiltIn: true);
}

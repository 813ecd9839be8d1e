namespace EdgeOps.Fleet.Diagnostics;

/// <summary>
/// Every diagnostic code EdgeOps reports. The numbers are stable: CI configurations and SARIF
/// consumers refer to them. EO1xxx files and YAML, EO2xxx schema, EO3xxx references and values,
/// EO4xxx Kubernetes manifests, EO5xxx rendering, EO6xxx policies.
/// </summary>
public static class Codes
{
    public const string InvalidUtf8 = "EO1001";
    public const string YamlSyntax = "EO1002";
    public const string AliasLimit = "EO1003";
    public const string FileTooLarge = "EO1004";
    public const string SymlinkOutsideRepo = "EO1005";
    public const string NotAnObject = "EO1006";
    public const string UnknownApiVersion = "EO1007";
    public const string UnknownKind = "EO1008";
    public const string DuplicateKey = "EO1009";
    public const string UnreferencedFile = "EO1010";
    public const string UnsupportedYaml = "EO1011";
    public const string NestingTooDeep = "EO1012";
    public const string IoError = "EO1013";

    public const string UnknownField = "EO2001";
    public const string WrongType = "EO2002";
    public const string MissingField = "EO2003";
    public const string InvalidEnum = "EO2004";
    public const string DuplicateName = "EO2005";
    public const string FleetCount = "EO2006";
    public const string InvalidName = "EO2007";

    public const string ManifestNotFound = "EO3001";
    public const string UnknownDependency = "EO3002";
    public const string DependencyCycle = "EO3003";
    public const string UnknownDeviceClass = "EO3004";
    public const string FileNotFound = "EO3005";
    public const string InvalidSelector = "EO3010";
    public const string InvalidLabel = "EO3011";
    public const string InvalidCron = "EO3020";
    public const string UnknownTimeZone = "EO3021";
    public const string InvalidDuration = "EO3022";
    public const string CoordinateOutOfRange = "EO3030";
    public const string InvalidGeoJson = "EO3031";
    public const string InvalidQuantity = "EO3040";
    public const string InvalidValue = "EO3050";

    public const string ManifestMissingApiVersion = "EO4001";
    public const string ManifestMissingKind = "EO4002";
    public const string ManifestMissingName = "EO4003";
    public const string ManifestNotAMapping = "EO4004";

    public const string UnknownVariable = "EO5001";
    public const string DuplicateObject = "EO5002";
    public const string PatchFailed = "EO5003";
    public const string PatchTargetUnmatched = "EO5004";
    public const string NothingPlaced = "EO5005";
    public const string KindWithoutDefinition = "EO5006";
    public const string ExpansionLimit = "EO5007";

    public const string PolicyViolation = "EO6001";
    public const string PolicySyntax = "EO6101";
    public const string PolicyRuntime = "EO6102";
    public const string PolicyLimit = "EO6103";
    public const string PolicyInvalidResult = "EO6104";
    public const string PolicyImport = "EO6105";
    public const string PolicyDefinition = "EO6106";
    public const string PolicyUnknown = "EO6107";
    public const string PolicySettings = "EO6108";

    public const string AllowedSignersSyntax = "EO7001";
    public const string RevisionNotTrusted = "EO7002";
    public const string UnsignedUpgradeArtifact = "EO7003";
    public const string UpgradeArtifactUnverifiable = "EO7004";
    public const string UpgradeArtifactRejected = "EO7005";
    public const string TrustedRootInvalid = "EO7006";

    /// <summary>Short descriptions, used as SARIF rule texts and in the README's table.</summary>
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        [InvalidUtf8] = "File is not valid UTF-8",
        [YamlSyntax] = "YAML syntax error",
        [AliasLimit] = "YAML aliases expand beyond the node limit (alias bomb)",
        [FileTooLarge] = "File exceeds the size limit",
        [SymlinkOutsideRepo] = "Symbolic link points outside the repository",
        [NotAnObject] = "YAML document is not an object with apiVersion and kind",
        [UnknownApiVersion] = "Unknown EdgeOps apiVersion",
        [UnknownKind] = "Unknown EdgeOps kind",
        [DuplicateKey] = "Duplicate key in a YAML mapping",
        [UnreferencedFile] = "YAML file is neither a fleet object nor a referenced manifest",
        [UnsupportedYaml] = "Unsupported YAML feature",
        [NestingTooDeep] = "YAML nesting too deep",
        [IoError] = "File could not be read",
        [UnknownField] = "Unknown field",
        [WrongType] = "Value has the wrong type",
        [MissingField] = "Required field is missing",
        [InvalidEnum] = "Value is not one of the allowed values",
        [DuplicateName] = "Two objects of one kind have the same name",
        [FleetCount] = "A fleet repo needs exactly one Fleet object",
        [InvalidName] = "Name is not a valid DNS-1123 label",
        [ManifestNotFound] = "Manifest path does not exist",
        [UnknownDependency] = "dependsOn names an unknown workload",
        [DependencyCycle] = "dependsOn forms a cycle",
        [UnknownDeviceClass] = "Device class is not defined by any DeviceConfig",
        [FileNotFound] = "Referenced file does not exist",
        [InvalidSelector] = "Invalid label selector",
        [InvalidLabel] = "Invalid label key or value",
        [InvalidCron] = "Invalid cron expression",
        [UnknownTimeZone] = "Unknown time zone",
        [InvalidDuration] = "Invalid duration",
        [CoordinateOutOfRange] = "Coordinate out of range",
        [InvalidGeoJson] = "Invalid GeoJSON geometry",
        [InvalidQuantity] = "Invalid Kubernetes quantity",
        [InvalidValue] = "Invalid value",
        [ManifestMissingApiVersion] = "Kubernetes manifest without apiVersion",
        [ManifestMissingKind] = "Kubernetes manifest without kind",
        [ManifestMissingName] = "Kubernetes manifest without metadata.name",
        [ManifestNotAMapping] = "Kubernetes manifest is not a mapping",
        [UnknownVariable] = "Unknown variable in a substitution",
        [DuplicateObject] = "Two objects with the same identity in one cluster's desired state",
        [PatchFailed] = "Overlay patch cannot be applied",
        [PatchTargetUnmatched] = "Overlay patch target matches no object",
        [NothingPlaced] = "Workload is placed on no cluster",
        [KindWithoutDefinition] = "Custom resource whose kind no CRD or declared API provides",
        [ExpansionLimit] = "Object expands beyond the size limit through aliases, variables or patches",
        [PolicyViolation] = "Policy violation",
        [PolicySyntax] = "Policy has a JavaScript syntax error",
        [PolicyRuntime] = "Policy threw an error",
        [PolicyLimit] = "Policy exceeded a sandbox limit (statements, time, memory, recursion, regex)",
        [PolicyInvalidResult] = "Policy returned something that is not a violation",
        [PolicyImport] = "Policy imports a module that does not exist",
        [PolicyDefinition] = "Policy definition (export const policy) is invalid",
        [PolicyUnknown] = "Unknown or duplicate policy",
        [AllowedSignersSyntax] = "Line of an allowed_signers file cannot be read",
        [RevisionNotTrusted] = "Commit is not signed as the fleet's trust settings require",
        [UnsignedUpgradeArtifact] = "Upgrade artifact carries no Sigstore bundle",
        [UpgradeArtifactUnverifiable] = "Upgrade artifact's bundle cannot be checked (no identities, or a digest Sigstore cannot match)",
        [UpgradeArtifactRejected] = "Upgrade artifact's Sigstore bundle does not verify",
        [TrustedRootInvalid] = "Sigstore trusted root cannot be read",
        [PolicySettings] = "Invalid policy limits or parameters",
    };
}

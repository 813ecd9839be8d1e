using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EdgeOps.Tests;

namespace EdgeOps.Cli.Tests.Distribution;

/// <summary>
/// What scripts/release.sh ships (scripts/test.sh runs it before the tests): per-runtime tarballs of the
/// NativeAOT build, the .NET tool package and the multi-arch OCI image, each checked the way a user would
/// use it — unpacked and run, installed with dotnet tool, run with podman on both platforms.
/// </summary>
public sealed class ReleaseTests : IDisposable
{
    private static readonly string Release = Path.Combine(RepoPaths.Root, "artifacts", "release");
    private readonly string _work = Path.Combine(Path.GetTempPath(), "edgeops-release-" + Guid.NewGuid().ToString("N")[..10]);

    public ReleaseTests() => Directory.CreateDirectory(_work);

    private static string Shipped(string pattern)
    {
        Assert.True(Directory.Exists(Release), $"{Release} is missing: scripts/release.sh builds it (scripts/test.sh runs it first)");
        var matches = Directory.GetFiles(Release, pattern);
        Assert.True(matches.Length == 1, $"expected one {pattern} in {Release}, found {matches.Length}");
        return matches[0];
    }

    [Fact]
    public void Checksums_CoverEveryFile_AndMatch()
    {
        var sums = File.ReadAllLines(Shipped("SHA256SUMS"))
            .Select(l => l.Split("  ", 2))
            .ToDictionary(p => p[1], p => p[0], StringComparer.Ordinal);
        var files = Directory.GetFiles(Release).Select(f => Path.GetFileName(f)!).Where(f => f != "SHA256SUMS").Order(StringComparer.Ordinal).ToList();

        Assert.Equal(files, sums.Keys.Order(StringComparer.Ordinal).ToList());
        foreach (var file in files)
        {
            using var stream = File.OpenRead(Path.Combine(Release, file));
            Assert.Equal(sums[file], Convert.ToHexStringLower(SHA256.HashData(stream)));
        }
    }

    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public void Tarball_HoldsTheNativeBinaryAndItsLibraries(string rid)
    {
        var tarball = Shipped($"edgeops-*-{rid}.tar.gz");
        Run("tar", _work, "-xzf", tarball);
        var folder = Assert.Single(Directory.GetDirectories(_work));
        var names = Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();

        Assert.Contains("edgeops", names);
        Assert.Contains("libsodium.so", names);
        Assert.Contains(names, n => n!.StartsWith("libgit2-", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n!.EndsWith(".dbg", StringComparison.Ordinal) || n!.EndsWith(".pdb", StringComparison.Ordinal));
        var machine = File.ReadAllBytes(Path.Combine(folder, "edgeops"))[18]; // ELF e_machine
        Assert.Equal(rid == "linux-x64" ? 0x3E : 0xB7, machine);

        if (rid == "linux-x64")
        {
            var (code, output) = Run(Path.Combine(folder, "edgeops"), RepoPaths.ExampleFleet, "validate", ".");
            Assert.Equal(0, code);
            Assert.Contains("fleet 'pomona-orchards' valid", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ToolPackage_InstallsWithDotnetTool_AndValidates()
    {
        var package = Shipped("edgeops.*.nupkg");
        var version = Path.GetFileNameWithoutExtension(package)["edgeops.".Length..];
        var tools = Path.Combine(_work, "tools");
        var (installed, log) = Run("dotnet", _work, "tool", "install", "--tool-path", tools, "--add-source", Release, "edgeops", "--version", version);
        Assert.True(installed == 0, log);

        var (code, output) = Run(Path.Combine(tools, "edgeops"), RepoPaths.ExampleFleet, "validate", ".");
        Assert.True(code == 0, output);
        Assert.Contains("fleet 'pomona-orchards' valid", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("linux/amd64")]
    [InlineData("linux/arm64")]
    public void Image_RunsTheVersionAndValidatesTheExampleFleet_OnEachPlatform(string platform)
    {
        var archive = "oci-archive:" + Shipped("edgeops-*.oci.tar");
        // A container store of the test's own: the machine's podman state plays no part.
        string[] podman = ["--root", Path.Combine(_work, "storage"), "--runroot", Path.Combine(_work, "run"), "--storage-driver", "vfs",
            "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--platform", platform];

        var (code, version) = Run("podman", _work, [.. podman, archive, "--version"]);
        Assert.True(code == 0, version);
        var (_, expected) = Run(Path.Combine(RepoPaths.Root, "artifacts", "bin", "linux-x64", "edgeops"), _work, "--version");
        Assert.Equal(expected.Trim(), version.Trim());

        var (validated, output) = Run("podman", _work, [.. podman, "-v", RepoPaths.ExampleFleet + ":/fleet:ro", "-w", "/fleet", archive, "validate", "."]);
        Assert.True(validated == 0, output);
        Assert.Contains("fleet 'pomona-orchards' valid: 13 clusters", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_IsAMultiArchIndex_NamedByTheDigestRecordedBesideIt_RunningAsAnUnprivilegedUser()
    {
        var digest = File.ReadAllText(Shipped("edgeops-*.oci.digest")).Trim();
        Assert.Matches("^sha256:[0-9a-f]{64}$", digest);

        var layout = Path.Combine(_work, "layout");
        Directory.CreateDirectory(layout);
        Run("tar", layout, "-xf", Shipped("edgeops-*.oci.tar"));
        var top = JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "index.json")))!["manifests"]!.AsArray().Single()!;
        Assert.Equal(digest, top["digest"]!.ToString());

        var index = Blob(layout, digest);
        var platforms = new List<string>();
        foreach (var manifest in index["manifests"]!.AsArray())
        {
            platforms.Add($"{manifest!["platform"]!["os"]}/{manifest["platform"]!["architecture"]}");
            var config = Blob(layout, Blob(layout, manifest["digest"]!.ToString())["config"]!["digest"]!.ToString());
            Assert.Equal("65532:65532", config["config"]!["User"]!.ToString());
            Assert.Equal("/usr/local/bin/edgeops", config["config"]!["Entrypoint"]![0]!.ToString());
        }

        Assert.Equal(["linux/amd64", "linux/arm64"], platforms.Order(StringComparer.Ordinal));
    }

    /// <summary>A JSON blob of an OCI layout, checked against its digest.</summary>
    private static JsonNode Blob(string layout, string digest)
    {
        var bytes = File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]));
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
        return JsonNode.Parse(bytes)!;
    }

    private static (int Code, string Output) Run(string file, string directory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), $"{file} {string.Join(' ', args)} did not finish");
        // Standard output alone on success (podman reports its pulls on stderr); both on failure.
        return (process.ExitCode, process.ExitCode == 0 ? stdout.Result : stdout.Result + stderr.Result);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

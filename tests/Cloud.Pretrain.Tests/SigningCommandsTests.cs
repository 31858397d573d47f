using System.Text.Json.Nodes;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Cloud.Tests;

[Collection(PretrainedGroup.Name)]
public sealed class SigningCommandsTests(PretrainedFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-cloud-sign-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task KeysNew_WritesPrivateKeyOwnerOnlyAndPublicKey_PrintsKeyId()
    {
        var run = await Cli.ExpectAsync(0, "keys", "new", "--out", _dir, "--name", "ops", "--json");
        var json = JsonNode.Parse(run.Output)!.AsObject();
        string privatePath = Path.Combine(_dir, "ops.key.pem");
        string publicPath = Path.Combine(_dir, "ops.pem");
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(privatePath));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(privatePath), StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", File.ReadAllText(publicPath), StringComparison.Ordinal);
        using var key = SigningKey.FromPem(File.ReadAllText(privatePath));
        Assert.Equal(key.KeyId, json["keyId"]!.GetValue<string>());
        using var pub = SigningKey.FromPem(File.ReadAllText(publicPath));
        Assert.Equal(key.KeyId, pub.KeyId);
        Assert.False(pub.HasPrivateKey);

        // A second run does not silently replace a key devices may trust.
        await Cli.ExpectAsync(ExitCodes.InvalidArguments, "keys", "new", "--out", _dir, "--name", "ops");
    }

    [Fact]
    public async Task Package_FromPretrainCheckpoint_VerifiesWithTheManifestDevicesNeed()
    {
        var run = await Cli.ExpectAsync(0, "verify", "--package", fixture.Package, "--trusted", fixture.Keys, "--json");
        var json = JsonNode.Parse(run.Output)!.AsObject();
        Assert.True(json["valid"]!.GetValue<bool>());
        var package = json["package"]!.AsObject();
        Assert.Equal(fixture.KeyId, package["keyId"]!.GetValue<string>());
        Assert.Equal(1, package["counter"]!.GetValue<long>());
        Assert.Equal("1.0.0", package["version"]!.GetValue<string>());
        Assert.Equal(["tshirt", "trouser", "pullover", "dress", "coat"], package["labels"]!.AsArray().Select(l => l!.GetValue<string>()));
        string[] roles = [.. package["files"]!.AsArray().Select(f => f!["role"]!.GetValue<string>())];
        Assert.Equal(["backbone", "head", "weights", "golden-inputs", "golden-outputs"], roles);

        // The manifest carries normalization and layer groups (read it as a device does).
        using var keys = fixture.Trusted();
        var manifest = ModelPackage.Verify(fixture.Package, keys).Manifest;
        Assert.Equal(32, manifest.Input.Size);
        Assert.Equal(3, manifest.Input.Mean.Count);
        Assert.Equal(["stem", "stage1", "stage2", "stage3", "stage4", "head"], manifest.LayerGroups.Select(g => g.Name));
        Assert.Equal(4, manifest.Golden!.Count);
    }

    [Fact]
    public async Task Verify_OneTamperedByte_IsRejectedWithExitCode5()
    {
        string tampered = Path.Combine(_dir, "tampered.tar");
        File.Copy(fixture.Package, tampered);
        byte[] bytes = File.ReadAllBytes(tampered);
        bytes[bytes.Length / 2] ^= 0x01;   // inside the backbone's ONNX payload
        File.WriteAllBytes(tampered, bytes);
        var run = await Cli.ExpectAsync(ExitCodes.PackageRejected, "verify", "--package", tampered, "--trusted", fixture.PublicKey, "--json");
        var json = JsonNode.Parse(run.Output)!.AsObject();
        Assert.False(json["valid"]!.GetValue<bool>());
        Assert.Equal(nameof(PackageRejection.HashMismatch), json["reason"]!.GetValue<string>());
        Assert.Contains("rejected [HashMismatch]", run.Error, StringComparison.Ordinal);

        // and re-signing cannot bless it
        await Cli.ExpectAsync(ExitCodes.PackageRejected, "sign", "--package", tampered, "--key", fixture.PrivateKey, "--out", Path.Combine(_dir, "blessed.tar"));
    }

    /// <summary>
    /// Issue 16: packages were read two ways; <c>sign</c> used a lax tar reader that devices do not,
    /// so it re-signed archives a device refuses. A non-zero byte in the padding after the manifest:
    /// devices and <c>sign</c> now both refuse it, for the same reason.
    /// </summary>
    [Fact]
    public async Task Sign_read_packages_with_a_laxer_tar_reader_than_devices()
    {
        string padded = Path.Combine(_dir, "padding.tar");
        byte[] bytes = File.ReadAllBytes(fixture.Package);
        long size = Convert.ToInt64(System.Text.Encoding.ASCII.GetString(bytes, 124, 11), 8);   // the first entry (manifest.json): its ustar size field
        Assert.NotEqual(0, size % 512);
        bytes[512 + (int)size] = 0x41;   // the first byte of its zero padding
        File.WriteAllBytes(padded, bytes);
        var verify = await Cli.ExpectAsync(ExitCodes.PackageRejected, "verify", "--package", padded, "--trusted", fixture.Keys, "--json");
        Assert.Equal(nameof(PackageRejection.Malformed), JsonNode.Parse(verify.Output)!["reason"]!.GetValue<string>());
        var sign = await Cli.ExpectAsync(ExitCodes.PackageRejected, "sign", "--package", padded, "--key", fixture.PrivateKey, "--out", Path.Combine(_dir, "resigned.tar"));
        Assert.Contains("padding", sign.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "resigned.tar")));
    }

    [Fact]
    public async Task Verify_SignedByAnUntrustedKey_IsRejectedWithExitCode5()
    {
        await Cli.ExpectAsync(0, "keys", "new", "--out", _dir, "--name", "rogue");
        string rogue = Path.Combine(_dir, "rogue.tar");
        await Cli.ExpectAsync(0, "sign", "--package", fixture.Package, "--key", Path.Combine(_dir, "rogue.key.pem"), "--out", rogue);
        var run = await Cli.ExpectAsync(ExitCodes.PackageRejected, "verify", "--package", rogue, "--trusted", fixture.Keys);
        Assert.Contains("UntrustedKey", run.Error, StringComparison.Ordinal);
        // The rogue key itself would accept it: only the trust differs.
        await Cli.ExpectAsync(0, "verify", "--package", rogue, "--trusted", Path.Combine(_dir, "rogue.pem"));
    }

    [Fact]
    public async Task Sign_WithANewCounterAndVersion_KeepsEveryFileAndVerifies()
    {
        string bumped = Path.Combine(_dir, "bumped.tar");
        var run = await Cli.ExpectAsync(0, "sign", "--package", fixture.Package, "--key", fixture.PrivateKey, "--counter", "7", "--version", "1.0.7", "--out", bumped, "--json");
        Assert.Equal(7, JsonNode.Parse(run.Output)!["counter"]!.GetValue<long>());
        using var keys = fixture.Trusted();
        var before = ModelPackage.Verify(fixture.Package, keys).Manifest;
        var after = ModelPackage.Verify(bumped, keys, installedCounter: 5).Manifest;
        Assert.Equal((7L, "1.0.7"), (after.Counter, after.Version));
        Assert.Equal(before.Files, after.Files);
        // A device already at counter 9 refuses it as a rollback.
        var rollback = await Cli.ExpectAsync(ExitCodes.PackageRejected, "verify", "--package", bumped, "--trusted", fixture.Keys, "--installed-counter", "9");
        Assert.Contains("Rollback", rollback.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetaPretrain_ThenPackageWithHeadInit_ShipsTheHeadInitialization()
    {
        string init = Path.Combine(_dir, "head.init.safetensors");
        var meta = await Cli.ExpectAsync(0, "meta-pretrain", "--arch", "resnet18", "--weights", fixture.Checkpoint, "--classes", "0,1,2,3,4", "--algorithm", "anil",
            "--ways", "5", "--shots", "5", "--steps", "3", "--inner-lr", "0.003", "--iterations", "5", "--per-class", "20", "--threads", "2", "--out", init, "--json");
        Assert.Equal("Anil", JsonNode.Parse(meta.Output)!["algorithm"]!.GetValue<string>());
        Assert.True(File.Exists(init));
        string package = Path.Combine(_dir, "cold.tar");
        await Cli.ExpectAsync(0, "package", "--arch", "resnet18", "--weights", fixture.Checkpoint, "--labels-from", "fashion-mnist", "--size", "32",
            "--head-init", init, "--key", fixture.PrivateKey, "--counter", "2", "--version", "1.1.0", "--out", package, "--threads", "2");
        using var keys = fixture.Trusted();
        var manifest = ModelPackage.Verify(package, keys).Manifest;
        Assert.Contains(manifest.Files, f => f.Role == PackageFileRoles.HeadInitialization);
        Assert.Equal(10, manifest.Labels.Count);
    }
}

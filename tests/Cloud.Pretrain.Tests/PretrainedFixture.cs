namespace EdgeTL.Cloud.Tests;

/// <summary>
/// One tiny <c>pretrain</c> run (resnet18 at 32×32, 40 images per class, 1 epoch), a signing key
/// pair from <c>keys new</c>, and a signed package of it, shared by the tests of a class.
/// </summary>
public sealed class PretrainedFixture : IAsyncLifetime
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("edgetl-cloud-tests-").FullName;

    public string Checkpoint => Path.Combine(Dir, "backbone.bin");

    public string Keys => Path.Combine(Dir, "keys");

    public string PrivateKey => Path.Combine(Keys, "release.key.pem");

    public string PublicKey => Path.Combine(Keys, "release.pem");

    public string Package => Path.Combine(Dir, "model-v1.tar");

    public string KeyId { get; private set; } = "";

    /// <summary>The release public key, as a device holds it.</summary>
    public EdgeTL.Runtime.Packaging.TrustedKeys Trusted() =>
        new([EdgeTL.Runtime.Packaging.SigningKey.FromPem(File.ReadAllText(PublicKey))]);

    public async Task InitializeAsync()
    {
        await Cli.ExpectAsync(0, "pretrain", "--arch", "resnet18", "--classes", "0-4", "--size", "32", "--epochs", "1", "--per-class", "40",
            "--batch-size", "32", "--threads", "2", "--out", Checkpoint, "--json");
        var keys = await Cli.ExpectAsync(0, "keys", "new", "--out", Keys);
        KeyId = keys.Output.Split('\n')[0].Trim();
        await Cli.ExpectAsync(0, "package", "--arch", "resnet18", "--weights", Checkpoint, "--classes", "tshirt", "trouser", "pullover", "dress", "coat",
            "--size", "32", "--key", PrivateKey, "--counter", "1", "--version", "1.0.0", "--out", Package, "--threads", "2");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Dir, recursive: true);
        return Task.CompletedTask;
    }
}

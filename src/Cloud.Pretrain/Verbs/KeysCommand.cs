using System.CommandLine;
using System.Text.Json;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Cloud;

/// <summary><c>keys new</c>: create a package-signing key pair (ECDSA P-256).</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder to write the key pair into (created if missing).", Required = true };
        var name = new Option<string>("--name") { Description = "File name stem: <name>.key.pem (private, mode 600) and <name>.pem (public).", DefaultValueFactory = _ => "release" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing key pair of that name." };
        var json = CommonOptions.Json();
        var create = new Command("new", "Create an ECDSA P-256 signing key: <name>.key.pem (PKCS#8, private, file mode 600) and <name>.pem (SPKI, give it to devices); prints the key id.")
        {
            output, name, force, json,
        };
        create.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, _ =>
        {
            string dir = parse.GetValue(output)!;
            string stem = parse.GetValue(name)!;
            if (stem.Length == 0 || stem.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || stem.Contains("..", StringComparison.Ordinal))
                throw CloudCliException.InvalidArguments($"--name '{stem}' is not a plain file name.");
            Directory.CreateDirectory(dir);
            string privatePath = Path.Combine(dir, stem + ".key.pem");
            string publicPath = Path.Combine(dir, stem + ".pem");
            if (!parse.GetValue(force) && (File.Exists(privatePath) || File.Exists(publicPath)))
                throw CloudCliException.InvalidArguments($"'{privatePath}' or '{publicPath}' exists; pass --force to replace the key (devices trusting it would refuse new packages).");
            using var key = SigningKey.Create();
            WritePrivate(privatePath, key.PrivatePem());
            File.WriteAllText(publicPath, key.PublicPem());
            var summary = new KeySummary(key.KeyId, SigningKey.Algorithm, Path.GetFullPath(privatePath), Path.GetFullPath(publicPath));
            var writer = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                writer.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.KeySummary));
            }
            else
            {
                writer.WriteLine(summary.KeyId);
                writer.WriteLine($"  private: {summary.PrivateKey} (keep it secret; mode 600)");
                writer.WriteLine($"  public:  {summary.PublicKey} (copy into each device's trusted keys folder)");
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return new Command("keys", "Manage package-signing keys.") { create };
    }

    /// <summary>Creates the file readable by its owner only before a byte of the key is written.</summary>
    private static void WritePrivate(string path, string pem)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(pem);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);   // also when --force replaced a wider file
    }
}

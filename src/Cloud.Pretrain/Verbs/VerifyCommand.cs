using System.CommandLine;
using System.Text.Json;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>verify</c>: check a package exactly as a device does (strict tar, trusted signature, manifest,
/// counter, every file's SHA-256). Exit 0 when valid, <see cref="ExitCodes.PackageRejected"/> with
/// the reason when not.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var package = new Option<string>("--package") { Description = "The package file (.tar) or folder.", Required = true };
        var trusted = new Option<string>("--trusted") { Description = "Trusted public keys: a folder of *.pem, or one .pem file.", Required = true };
        var installed = new Option<long>("--installed-counter") { Description = "Refuse counters below this one, as a device running it would.", DefaultValueFactory = _ => 0 };
        var json = CommonOptions.Json();
        var command = new Command("verify", "Verify a package as a device would; exit 0 if valid, 5 with the rejection reason if not.")
        {
            package, trusted, installed, json,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, _ =>
        {
            string path = parse.GetValue(package)!;
            using var keys = LoadTrusted(parse.GetValue(trusted)!);
            var output = parse.InvocationConfiguration.Output;
            bool asJson = parse.GetValue(json);
            try
            {
                var verified = ModelPackage.Verify(path, keys, parse.GetValue(installed));
                var summary = PackageSummary.From(Path.GetFullPath(path), verified.Manifest, verified.Signature.KeyId);
                if (asJson)
                {
                    output.WriteLine(JsonSerializer.Serialize(new VerifyResult(true, null, null, summary), CliJson.Default.VerifyResult));
                }
                else
                {
                    output.WriteLine("valid");
                    PackageSummary.Print(summary, output);
                }
                return ExitCodes.Ok;
            }
            catch (PackageRejectedException e)
            {
                if (asJson)
                    output.WriteLine(JsonSerializer.Serialize(new VerifyResult(false, e.Reason.ToString(), e.Message, null), CliJson.Default.VerifyResult));
                parse.InvocationConfiguration.Error.WriteLine($"rejected [{e.Reason}]: {e.Message}");
                return ExitCodes.PackageRejected;
            }
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// A folder of PEM public keys, or a single PEM file. In a folder, private keys
    /// (<c>*.key.pem</c>, as <c>keys new</c> writes beside the public one) are skipped and a key
    /// present twice counts once, so <c>--trusted</c> may point at the folder <c>keys new</c> wrote.
    /// </summary>
    internal static TrustedKeys LoadTrusted(string path)
    {
        if (Directory.Exists(path))
        {
            var keys = Directory.GetFiles(path, "*.pem").Order(StringComparer.Ordinal)
                .Where(f => !f.EndsWith(".key.pem", StringComparison.Ordinal))
                .Select(f => SigningKey.FromPem(File.ReadAllText(f)))
                .ToList();
            var distinct = keys.DistinctBy(k => k.KeyId).ToList();
            foreach (var duplicate in keys.Except(distinct))
                duplicate.Dispose();
            return new TrustedKeys(distinct);
        }
        if (File.Exists(path))
            return new TrustedKeys([SigningKey.FromPem(File.ReadAllText(path))]);
        throw CloudCliException.InvalidArguments($"--trusted '{path}' is neither a folder of .pem keys nor a .pem file.");
    }
}

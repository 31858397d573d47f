using System.CommandLine;
using System.Text.Json;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>sign</c>: sign a package again — with another key (rotation), or after bumping its counter or
/// version. Every file must still match the old manifest; only the manifest changes.
/// </summary>
internal static class SignCommand
{
    public static Command Create()
    {
        var package = new Option<string>("--package") { Description = "The package file (.tar) or folder to re-sign.", Required = true };
        var key = new Option<string>("--key") { Description = "Private signing key (<name>.key.pem).", Required = true };
        var counter = new Option<long?>("--counter") { Description = "New counter (default: keep)." };
        var version = new Option<string?>("--version") { Description = "New version string (default: keep)." };
        var asDirectory = new Option<bool>("--directory") { Description = "Write the directory form instead of one tar file." };
        var output = new Option<string>("--out") { Description = "Package to write (may be the input itself).", Required = true };
        var json = CommonOptions.Json();
        var command = new Command("sign", "Re-sign a package (new key, counter or version); refuses a package whose files differ from its manifest.")
        {
            package, key, counter, version, asDirectory, output, json,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, _ =>
        {
            using var signingKey = PackageCommand.LoadPrivateKey(parse.GetValue(key)!);
            using var contents = PackageContents.Read(parse.GetValue(package)!);
            var manifest = contents.Manifest with
            {
                Counter = parse.GetValue(counter) ?? contents.Manifest.Counter,
                Version = parse.GetValue(version) ?? contents.Manifest.Version,
            };
            string outPath = Path.GetFullPath(parse.GetValue(output)!);
            string? parent = Path.GetDirectoryName(outPath);
            if (parent is not null)
                Directory.CreateDirectory(parent);
            var written = ModelPackage.Write(outPath, manifest, contents.Files, signingKey, parse.GetValue(asDirectory));
            var summary = PackageSummary.From(outPath, written, signingKey.KeyId);
            var console = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                console.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.PackageSummary));
            }
            else
            {
                if (contents.Signature is { } old && old.KeyId != signingKey.KeyId)
                    console.WriteLine($"Re-signed (was signed by {old.KeyId}).");
                PackageSummary.Print(summary, console);
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}

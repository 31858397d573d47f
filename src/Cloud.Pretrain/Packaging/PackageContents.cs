using System.Text.Json;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Cloud;

/// <summary>
/// A package's manifest and files, copied into a temporary folder so they can be signed again.
/// The signature is not checked (the signer may be an old key), but every file's size and SHA-256
/// must match the manifest and nothing else may be there: re-signing never blesses a changed byte.
/// </summary>
internal sealed class PackageContents : IDisposable
{
    private readonly string _work;

    private PackageContents(string work, ModelManifest manifest, SignatureFile? signature)
    {
        _work = work;
        Manifest = manifest;
        Signature = signature;
    }

    /// <summary>The manifest as signed.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The old signature, when there was one.</summary>
    public SignatureFile? Signature { get; }

    /// <summary>(path inside the package, role, file on disk) for <see cref="ModelPackage.Write"/>.</summary>
    public IReadOnlyList<(string PackagePath, string Role, string Source)> Files =>
        [.. Manifest.Files.Select(f => (f.Path, f.Role, System.IO.Path.Combine(_work, "files", f.Path)))];

    /// <summary>Reads a package file (strict tar) or folder.</summary>
    /// <exception cref="PackageRejectedException">Unreadable, unlisted or changed files.</exception>
    public static PackageContents Read(string path, PackageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= new PackageLimits();
        string work = Directory.CreateTempSubdirectory("edgetl-resign-").FullName;
        try
        {
            string files = System.IO.Path.Combine(work, "files");
            Directory.CreateDirectory(files);
            if (Directory.Exists(path))
                CopyDirectory(path, files);
            else if (File.Exists(path))
                ExtractTar(path, files, limits);
            else
                throw new PackageRejectedException(PackageRejection.MissingFile, $"'{path}' does not exist");

            string manifestPath = System.IO.Path.Combine(files, ManifestFiles.Manifest);
            if (!File.Exists(manifestPath))
                throw new PackageRejectedException(PackageRejection.NotSigned, $"'{path}' has no {ManifestFiles.Manifest}");
            ModelManifest manifest;
            try
            {
                manifest = JsonSerializer.Deserialize(File.ReadAllBytes(manifestPath), ManifestJson.Default.ModelManifest)
                    ?? throw new JsonException("empty manifest");
            }
            catch (JsonException e)
            {
                throw new PackageRejectedException(PackageRejection.InvalidManifest, $"{ManifestFiles.Manifest}: {e.Message}");
            }
            string signaturePath = System.IO.Path.Combine(files, ManifestFiles.Signature);
            SignatureFile? signature = null;
            if (File.Exists(signaturePath))
            {
                try
                {
                    signature = JsonSerializer.Deserialize(File.ReadAllBytes(signaturePath), ManifestJson.Default.SignatureFile);
                }
                catch (JsonException)
                {
                    signature = null;   // a broken old signature is replaced anyway
                }
            }
            CheckFiles(manifest, files);
            return new PackageContents(work, manifest, signature);
        }
        catch
        {
            Directory.Delete(work, recursive: true);
            throw;
        }
    }

    private static void CheckFiles(ModelManifest manifest, string root)
    {
        var listed = new HashSet<string>(manifest.Files.Select(f => f.Path), StringComparer.Ordinal) { ManifestFiles.Manifest, ManifestFiles.Signature };
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            string relative = System.IO.Path.GetRelativePath(root, file).Replace('\\', '/');
            if (!listed.Contains(relative))
                throw new PackageRejectedException(PackageRejection.UnexpectedFile, $"'{relative}' is not listed in the manifest");
        }
        foreach (var f in manifest.Files)
        {
            string file = System.IO.Path.Combine(root, f.Path);
            if (!File.Exists(file))
                throw new PackageRejectedException(PackageRejection.MissingFile, $"'{f.Path}' is listed but missing");
            if (new FileInfo(file).Length != f.Size || ModelPackage.HashFile(file) != f.Sha256)
                throw new PackageRejectedException(PackageRejection.HashMismatch, $"'{f.Path}' differs from the manifest");
        }
    }

    /// <summary>
    /// Unpacks a package file with the Runtime's strict tar reader, the one devices use: every header
    /// checksum, link, path, padding and end marker is checked the same way, so <c>sign</c> never
    /// re-signs a file a device would refuse.
    /// </summary>
    private static void ExtractTar(string path, string target, PackageLimits limits)
    {
        if (new FileInfo(path).Length > limits.MaxPackageBytes + limits.MaxManifestBytes * 2)
            throw new PackageRejectedException(PackageRejection.TooLarge, $"'{path}' exceeds {limits.MaxPackageBytes} bytes");
        using var stream = File.OpenRead(path);
        var buffer = new byte[81920];
        StrictTar.Read(stream, limits, (entry, data) =>
        {
            string destination = SafePath(target, entry.Name);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
            using var file = new FileStream(destination, FileMode.CreateNew);
            long left = entry.Size;
            while (left > 0)
            {
                int read = data.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (read == 0)
                    throw new PackageRejectedException(PackageRejection.Truncated, $"'{entry.Name}' ends early");
                file.Write(buffer, 0, read);
                left -= read;
            }
        });
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            if (new FileInfo(file).LinkTarget is not null)
                throw new PackageRejectedException(PackageRejection.Link, $"'{file}' is a link");
            string destination = SafePath(target, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    private static string SafePath(string root, string name)
    {
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, name));
        if (System.IO.Path.IsPathRooted(name) || !full.StartsWith(System.IO.Path.GetFullPath(root) + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new PackageRejectedException(PackageRejection.PathTraversal, $"'{name}' leaves the package");
        return full;
    }

    /// <summary>Deletes the temporary copy.</summary>
    public void Dispose()
    {
        if (Directory.Exists(_work))
            Directory.Delete(_work, recursive: true);
    }
}

using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeTL.Runtime.Packaging;

/// <summary>A package whose signature, manifest, counter and every file hash have been checked.</summary>
/// <param name="Path">The package file or directory.</param>
/// <param name="IsDirectory">True for the directory form.</param>
/// <param name="Manifest">The signed manifest.</param>
/// <param name="ManifestBytes">Its exact bytes (what the signature covers).</param>
/// <param name="Signature">The detached signature.</param>
public sealed record VerifiedPackage(string Path, bool IsDirectory, ModelManifest Manifest, byte[] ManifestBytes, SignatureFile Signature);

/// <summary>
/// Model package v1: <c>manifest.json</c>, its detached ECDSA P-256 signature
/// <c>manifest.sig</c>, then the files the manifest lists with their SHA-256 and size, as one
/// strict tar file or as a directory. <see cref="Verify"/> checks everything without
/// writing a byte, so nothing is unpacked from a package that fails.
/// </summary>
public static class ModelPackage
{
    /// <summary>
    /// Writes a signed package. Hashes and sizes of <paramref name="files"/> are computed here
    /// and replace <paramref name="manifest"/>'s file list. Returns the manifest written.
    /// </summary>
    /// <param name="output">A <c>.tar</c> file, or a directory when <paramref name="asDirectory"/>.</param>
    /// <param name="manifest">Everything but the file list.</param>
    /// <param name="files">(path inside the package, role, source file).</param>
    /// <param name="key">The signing key (private).</param>
    /// <param name="asDirectory">Write the directory form.</param>
    public static ModelManifest Write(string output, ModelManifest manifest, IReadOnlyList<(string PackagePath, string Role, string Source)> files, SigningKey key, bool asDirectory = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(key);
        var listed = files.Select(f => new PackageFile(f.PackagePath, HashFile(f.Source), new FileInfo(f.Source).Length, f.Role)).ToList();
        var final = manifest with { Files = listed };
        var problems = final.Problems();
        if (problems.Count > 0)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, "The manifest is not valid: " + string.Join("; ", problems));
        byte[] manifestBytes = JsonSerializer.SerializeToUtf8Bytes(final, PackageJson.Default.ModelManifest);
        byte[] signatureBytes = JsonSerializer.SerializeToUtf8Bytes(key.Sign(manifestBytes), PackageJson.Default.SignatureFile);

        if (asDirectory)
        {
            Directory.CreateDirectory(output);
            File.WriteAllBytes(System.IO.Path.Combine(output, ManifestFiles.Manifest), manifestBytes);
            File.WriteAllBytes(System.IO.Path.Combine(output, ManifestFiles.Signature), signatureBytes);
            foreach (var (packagePath, _, source) in files)
            {
                string target = System.IO.Path.Combine(output, packagePath);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                File.Copy(source, target, overwrite: true);
            }
            return final;
        }

        string temp = output + ".tmp";
        using (var stream = File.Create(temp))
        {
            var streams = new List<Stream>();
            try
            {
                var entries = new List<(string, Stream)>
                {
                    (ManifestFiles.Manifest, new MemoryStream(manifestBytes)),
                    (ManifestFiles.Signature, new MemoryStream(signatureBytes)),
                };
                foreach (var (packagePath, _, source) in files)
                {
                    var s = File.OpenRead(source);
                    streams.Add(s);
                    entries.Add((packagePath, s));
                }
                StrictTar.Write(stream, entries);
            }
            finally
            {
                foreach (var s in streams)
                    s.Dispose();
            }
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, output, overwrite: true);
        return final;
    }

    /// <summary>
    /// Verifies a package file or directory: structure, signature by a trusted key, manifest,
    /// counter not below <paramref name="installedCounter"/>, every file's size and SHA-256, no
    /// file missing or extra, no link, no path leaving the package, every size within limits.
    /// </summary>
    /// <exception cref="PackageRejectedException">With the reason of the first failed check.</exception>
    public static VerifiedPackage Verify(string path, TrustedKeys keys, long installedCounter = 0, PackageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(keys);
        limits ??= new PackageLimits();
        if (Directory.Exists(path))
            return VerifyDirectory(path, keys, installedCounter, limits);
        if (!File.Exists(path))
            throw new PackageRejectedException(PackageRejection.MissingFile, $"'{path}' does not exist");
        if (new FileInfo(path).LinkTarget is not null)
            throw new PackageRejectedException(PackageRejection.Link, $"'{path}' is a link");
        using var stream = File.OpenRead(path);
        return VerifyArchive(path, stream, keys, installedCounter, limits);
    }

    /// <summary>Copies a verified package's files into <paramref name="directory"/>, hashing again as it writes (the source may have changed since).</summary>
    internal static void Extract(VerifiedPackage package, string directory, PackageLimits limits)
    {
        var expected = package.Manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        void Copy(string name, Stream source, long size)
        {
            string target = System.IO.Path.Combine(directory, name);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
            string hash = HashAndCopy(source, size, output, name);
            output.Flush(flushToDisk: true);
            if (expected.TryGetValue(name, out var file) && hash != file.Sha256)
                throw new PackageRejectedException(PackageRejection.HashMismatch, $"'{name}' changed after verification");
        }
        if (package.IsDirectory)
        {
            foreach (var name in new[] { ManifestFiles.Manifest, ManifestFiles.Signature }.Concat(expected.Keys))
            {
                using var source = File.OpenRead(System.IO.Path.Combine(package.Path, name));
                Copy(name, source, source.Length);
            }
            return;
        }
        using var stream = File.OpenRead(package.Path);
        StrictTar.Read(stream, limits, (entry, data) => Copy(entry.Name, data, entry.Size));
    }

    private static VerifiedPackage VerifyArchive(string path, Stream stream, TrustedKeys keys, long installedCounter, PackageLimits limits)
    {
        if (stream.Length > limits.MaxPackageBytes + limits.MaxManifestBytes * 2)
            throw new PackageRejectedException(PackageRejection.TooLarge, $"'{path}' is {stream.Length} bytes, over the {limits.MaxPackageBytes}-byte limit");
        byte[]? manifestBytes = null;
        SignatureFile? signature = null;
        ModelManifest? manifest = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int index = 0;
        StrictTar.Read(stream, limits, (entry, data) =>
        {
            switch (index++)
            {
                case 0:
                    if (entry.Name != ManifestFiles.Manifest)
                        throw new PackageRejectedException(PackageRejection.NotSigned, $"the first entry is '{entry.Name}', not {ManifestFiles.Manifest}");
                    manifestBytes = ReadAll(data, entry.Size);
                    break;
                case 1:
                    if (entry.Name != ManifestFiles.Signature)
                        throw new PackageRejectedException(PackageRejection.NotSigned, $"the second entry is '{entry.Name}', not {ManifestFiles.Signature}");
                    signature = VerifySignature(manifestBytes!, ReadAll(data, entry.Size), keys);
                    manifest = ParseManifest(manifestBytes!, installedCounter);
                    break;
                default:
                    var file = manifest!.Files.FirstOrDefault(f => f.Path == entry.Name)
                        ?? throw new PackageRejectedException(PackageRejection.UnexpectedFile, $"'{entry.Name}' is not listed in the manifest");
                    if (!seen.Add(entry.Name))
                        throw new PackageRejectedException(PackageRejection.Malformed, $"'{entry.Name}' appears twice");
                    CheckFile(file, data, entry.Size);
                    break;
            }
        });
        if (manifest is null)
            throw new PackageRejectedException(PackageRejection.NotSigned, "the package holds no signed manifest");
        if (manifest.Files.FirstOrDefault(f => !seen.Contains(f.Path)) is { } missing)
            throw new PackageRejectedException(PackageRejection.MissingFile, $"'{missing.Path}' is listed but absent");
        return new VerifiedPackage(path, false, manifest, manifestBytes!, signature!);
    }

    private static VerifiedPackage VerifyDirectory(string root, TrustedKeys keys, long installedCounter, PackageLimits limits)
    {
        var present = new Dictionary<string, FileInfo>(StringComparer.Ordinal);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            string relative = System.IO.Path.GetRelativePath(root, entry.FullName).Replace('\\', '/');
            if (entry.LinkTarget is not null)
                throw new PackageRejectedException(PackageRejection.Link, $"'{relative}' is a link to '{entry.LinkTarget}'");
            if (entry is FileInfo file)
                present[relative] = file;
        }
        if (!present.TryGetValue(ManifestFiles.Manifest, out var manifestFile) || !present.TryGetValue(ManifestFiles.Signature, out var signatureFile))
            throw new PackageRejectedException(PackageRejection.NotSigned, $"'{root}' lacks {ManifestFiles.Manifest} or {ManifestFiles.Signature}");
        if (manifestFile.Length > limits.MaxManifestBytes || signatureFile.Length > limits.MaxManifestBytes)
            throw new PackageRejectedException(PackageRejection.TooLarge, "the manifest or its signature is over the size limit");
        byte[] manifestBytes = File.ReadAllBytes(manifestFile.FullName);
        var signature = VerifySignature(manifestBytes, File.ReadAllBytes(signatureFile.FullName), keys);
        var manifest = ParseManifest(manifestBytes, installedCounter);
        var listed = manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        if (present.Keys.FirstOrDefault(p => p is not (ManifestFiles.Manifest or ManifestFiles.Signature) && !listed.ContainsKey(p)) is { } extra)
            throw new PackageRejectedException(PackageRejection.UnexpectedFile, $"'{extra}' is not listed in the manifest");
        long total = 0;
        foreach (var file in manifest.Files)
        {
            if (!present.TryGetValue(file.Path, out var info))
                throw new PackageRejectedException(PackageRejection.MissingFile, $"'{file.Path}' is listed but absent");
            if (info.Length > limits.MaxFileBytes)
                throw new PackageRejectedException(PackageRejection.TooLarge, $"'{file.Path}' is {info.Length} bytes, over the {limits.MaxFileBytes}-byte limit");
            if ((total += info.Length) > limits.MaxPackageBytes)
                throw new PackageRejectedException(PackageRejection.TooLarge, $"the package exceeds {limits.MaxPackageBytes} bytes");
            using var stream = info.OpenRead();
            CheckFile(file, stream, info.Length);
        }
        return new VerifiedPackage(root, true, manifest, manifestBytes, signature);
    }

    /// <summary>
    /// Parses and checks the signature file. Its bytes must also be exactly those the packager
    /// writes for what they hold: JSON has more than one spelling of the same content (escapes such
    /// as <c>\u002B</c> against <c>\u002b</c>, whitespace), and no byte of a signed package may change
    /// unnoticed. Checked after the signature, so an untrusted key is still reported as such.
    /// </summary>
    private static SignatureFile VerifySignature(byte[] manifestBytes, byte[] signatureBytes, TrustedKeys keys)
    {
        var signature = ParseSignature(signatureBytes);
        keys.Verify(manifestBytes, signature);
        if (!JsonSerializer.SerializeToUtf8Bytes(signature, PackageJson.Default.SignatureFile).AsSpan().SequenceEqual(signatureBytes))
            throw new PackageRejectedException(PackageRejection.BadSignature, "the signature file is not in the packager's canonical form (its bytes were changed)");
        return signature;
    }

    private static SignatureFile ParseSignature(byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, PackageJson.Default.SignatureFile)
                ?? throw new PackageRejectedException(PackageRejection.BadSignature, "the signature file is empty");
        }
        catch (JsonException e)
        {
            throw new PackageRejectedException(PackageRejection.BadSignature, $"the signature file is not valid JSON ({e.Message})");
        }
    }

    private static ModelManifest ParseManifest(byte[] bytes, long installedCounter)
    {
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(bytes, PackageJson.Default.ModelManifest);
        }
        catch (JsonException e)
        {
            throw new PackageRejectedException(PackageRejection.InvalidManifest, $"the signed manifest is not valid JSON ({e.Message})");
        }
        if (manifest is null)
            throw new PackageRejectedException(PackageRejection.InvalidManifest, "the signed manifest is empty");
        var problems = manifest.Problems();
        if (problems.Count > 0)
            throw new PackageRejectedException(PackageRejection.InvalidManifest, string.Join("; ", problems));
        if (manifest.Counter < installedCounter)
            throw new PackageRejectedException(PackageRejection.Rollback, $"counter {manifest.Counter} ({manifest.Name} {manifest.Version}) is lower than the installed {installedCounter}");
        return manifest;
    }

    private static void CheckFile(PackageFile file, Stream data, long size)
    {
        if (size != file.Size)
            throw new PackageRejectedException(PackageRejection.HashMismatch, $"'{file.Path}' is {size} bytes, the manifest says {file.Size}");
        string hash = HashAndCopy(data, size, null, file.Path);
        if (hash != file.Sha256)
            throw new PackageRejectedException(PackageRejection.HashMismatch, $"'{file.Path}' has SHA-256 {hash[..12]}…, the manifest says {file.Sha256[..12]}…");
    }

    private static string HashAndCopy(Stream source, long size, Stream? destination, string name)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long remaining = size;
        while (remaining > 0)
        {
            int read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (read == 0)
                throw new PackageRejectedException(PackageRejection.Truncated, $"'{name}' ends early");
            sha.AppendData(buffer, 0, read);
            destination?.Write(buffer, 0, read);
            remaining -= read;
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static byte[] ReadAll(Stream data, long size)
    {
        var bytes = new byte[size];
        int total = 0;
        while (total < size)
        {
            int read = data.Read(bytes, total, (int)size - total);
            if (read == 0)
                throw new PackageRejectedException(PackageRejection.Truncated, "the archive ends inside the manifest");
            total += read;
        }
        return bytes;
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

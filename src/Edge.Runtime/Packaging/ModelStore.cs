using System.Globalization;
using System.Text.Json;

namespace EdgeTL.Runtime.Packaging;

/// <summary>An installed model: its folder and its (verified at install) manifest.</summary>
public sealed record InstalledModel(string Directory, ModelManifest Manifest)
{
    /// <summary>Full path of the file with <paramref name="role"/>, or null.</summary>
    public string? PathOf(string role) => Manifest.FileFor(role) is { } f ? System.IO.Path.Combine(Directory, f.Path) : null;
}

/// <summary>
/// The models installed on a device. <see cref="Install"/> verifies a package completely,
/// unpacks it into a staging folder (hashing again as it writes), flushes it, moves it into
/// <c>versions/</c>, and only then switches the <c>current</c> pointer with an atomic rename.
/// A package that fails at any point leaves the current model exactly as it was.
/// </summary>
public sealed class ModelStore
{
    private const string CurrentPointer = "current";
    private const string PreviousPointer = "previous";
    private readonly TrustedKeys _keys;
    private readonly PackageLimits _limits;

    /// <summary>Opens (or creates) a store under <paramref name="root"/>.</summary>
    /// <param name="root">The store's folder.</param>
    /// <param name="keys">Keys whose signatures are accepted.</param>
    /// <param name="limits">Archive limits; defaults when null.</param>
    /// <param name="keepVersions">
    /// How many installed versions to keep on disk (at least 2): an install prunes every version
    /// that is neither current, previous, nor among the <paramref name="keepVersions"/> most recently installed.
    /// </param>
    public ModelStore(string root, TrustedKeys keys, PackageLimits? limits = null, int keepVersions = 2)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentOutOfRangeException.ThrowIfLessThan(keepVersions, 2);
        Root = root;
        _keys = keys;
        _limits = limits ?? new PackageLimits();
        KeepVersions = keepVersions;
        Directory.CreateDirectory(VersionsDirectory);
        RemoveLeftovers();
    }

    /// <summary>How many installed versions are kept on disk (current and previous are always kept).</summary>
    public int KeepVersions { get; }

    /// <summary>The folders of the versions kept on disk, oldest install first.</summary>
    public IReadOnlyList<string> Versions =>
        [.. Directory.GetDirectories(VersionsDirectory).OrderBy(d => InstallOrder(Path.GetFileName(d)), StringComparer.Ordinal)];

    /// <summary>The store's folder.</summary>
    public string Root { get; }

    private string VersionsDirectory => Path.Combine(Root, "versions");

    /// <summary>The model being served, or null before the first install.</summary>
    public InstalledModel? Current => Read(CurrentPointer);

    /// <summary>The model served before the current one (for rollback), or null.</summary>
    public InstalledModel? Previous => Read(PreviousPointer);

    /// <summary>The counter of the current model (0 when none): packages below it are refused.</summary>
    public long InstalledCounter => Current?.Manifest.Counter ?? 0;

    /// <summary>Verifies <paramref name="packagePath"/> and makes it the current model.</summary>
    /// <exception cref="PackageRejectedException">The package failed a check; nothing changed.</exception>
    public InstalledModel Install(string packagePath)
    {
        var package = ModelPackage.Verify(packagePath, _keys, InstalledCounter, _limits);
        string staging = Path.Combine(Root, $".staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            ModelPackage.Extract(package, staging, _limits);
            return Commit(staging, package.Manifest);
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Installs a version made on the device from <paramref name="parent"/> and makes it current
    /// (the parent becomes <see cref="Previous"/>, so <see cref="RollBack"/> returns to it). It keeps
    /// the parent's files except those of <paramref name="dropped"/> roles, takes the files of
    /// <paramref name="replaced"/> roles from the given paths, and gets a manifest of its own (no
    /// signature: it never leaves the device) with the parent's counter, <paramref name="version"/>
    /// and <see cref="ModelManifest.DeviceMade"/> set. Staged, flushed and switched like
    /// <see cref="Install"/>: a failure leaves the current model as it was. <paramref name="labels"/> are
    /// the classes its head outputs, when a replaced head was trained on other classes than the parent's.
    /// <paramref name="quantized"/> describes a re-quantized int8 backbone among <paramref name="replaced"/> (the parent's section is kept otherwise).
    /// </summary>
    public InstalledModel InstallLocal(InstalledModel parent, IReadOnlyDictionary<string, string> replaced, IReadOnlyCollection<string> dropped,
        string version, DeviceOrigin origin, IReadOnlyList<string>? labels = null, Int8Backbone? quantized = null)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(replaced);
        ArgumentNullException.ThrowIfNull(dropped);
        ArgumentNullException.ThrowIfNull(origin);
        string staging = Path.Combine(Root, $".staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var files = new List<PackageFile>();
            var kept = parent.Manifest.Files.Where(f => !dropped.Contains(f.Role)).ToList();
            // A replaced role the parent lacks (a package without a head) is added under device/.
            kept.AddRange(replaced.Keys.Where(role => kept.All(f => f.Role != role)).Select(role => new PackageFile($"device/{role}{(role.StartsWith("golden", StringComparison.Ordinal) ? ".f32" : ".onnx")}", "", 0, role)));
            foreach (var file in kept)
            {
                string source = replaced.TryGetValue(file.Role, out var path) ? path : Path.Combine(parent.Directory, file.Path);
                string target = Path.Combine(staging, file.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                CopyFlushed(source, target);
                files.Add(new PackageFile(file.Path, ModelPackage.HashFile(target), new FileInfo(target).Length, file.Role));
            }
            var manifest = parent.Manifest with
            {
                Version = version,
                Labels = labels ?? parent.Manifest.Labels,
                Files = files,
                DeviceMade = origin,
                Golden = files.Any(f => f.Role == PackageFileRoles.GoldenOutputs) ? parent.Manifest.Golden : null,
                Quantized = files.Any(f => f.Role == PackageFileRoles.BackboneInt8) ? quantized ?? parent.Manifest.Quantized : null,
                Provenance = (parent.Manifest.Provenance ?? new Provenance()) with
                {
                    CreatedAt = origin.CreatedAt,
                    Tool = "edgetl-agent",
                    BaseModel = $"{parent.Manifest.Name}@{parent.Manifest.Version}",
                },
            };
            if (manifest.Problems() is { Count: > 0 } problems)
                throw new EdgeRuntimeException(RuntimeErrorCode.InvalidModel, $"The device-made version is not a valid model: {string.Join("; ", problems)}.");
            using (var stream = new FileStream(Path.Combine(staging, ManifestFiles.Manifest), FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, manifest, PackageJson.Default.ModelManifest);
                stream.Flush(flushToDisk: true);
            }
            return Commit(staging, manifest);
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Moves a complete staging folder into <c>versions/</c> and makes it current; the model it replaces becomes previous.</summary>
    private InstalledModel Commit(string staging, ModelManifest manifest)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"v{manifest.Counter:D10}-{DateTime.UtcNow:yyyyMMddHHmmssfffffff}-{Guid.NewGuid().ToString("N")[..6]}");
        string final = Path.Combine(VersionsDirectory, name);
        Directory.Move(staging, final);
        var previous = Current;
        if (previous is not null)
            WritePointer(PreviousPointer, Path.GetFileName(previous.Directory));
        WritePointer(CurrentPointer, name);
        Prune(keep: [name, previous is null ? "" : Path.GetFileName(previous.Directory)]);
        return new InstalledModel(final, manifest);
    }

    private static void CopyFlushed(string source, string target)
    {
        using var input = File.OpenRead(source);
        using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
        input.CopyTo(output);
        output.Flush(flushToDisk: true);
    }

    /// <summary>Makes the previous model current again (a failed health gate, an operator's rollback).</summary>
    /// <returns>The model now current, or null when there was nothing to roll back to.</returns>
    public InstalledModel? RollBack()
    {
        var previous = Previous;
        var current = Current;
        if (previous is null)
            return null;
        WritePointer(CurrentPointer, Path.GetFileName(previous.Directory));
        if (current is not null)
            WritePointer(PreviousPointer, Path.GetFileName(current.Directory));
        return previous;
    }

    /// <summary>
    /// Undoes the last install after the new model failed its health gate: the previous model
    /// becomes current again (or, after a first install, the store has no current model), the
    /// <c>previous</c> pointer is cleared so that an operator's <see cref="RollBack"/> can never
    /// return to the failed model, and the failed version's folder is deleted.
    /// </summary>
    /// <returns>The model now current, or null when there is none.</returns>
    public InstalledModel? Revert()
    {
        var failed = Current;
        var previous = Previous;
        if (previous is not null)
            WritePointer(CurrentPointer, Path.GetFileName(previous.Directory));
        else
            File.Delete(Path.Combine(Root, CurrentPointer));
        File.Delete(Path.Combine(Root, PreviousPointer));
        if (failed is not null && !string.Equals(failed.Directory, previous?.Directory, StringComparison.Ordinal))
            Directory.Delete(failed.Directory, recursive: true);
        return previous;
    }

    /// <summary>
    /// Checks that every file of <paramref name="model"/>'s manifest is present with its size and
    /// SHA-256; returns the first problem, or null when the model is complete.
    /// </summary>
    public static string? FindDamage(InstalledModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var file in model.Manifest.Files)
        {
            string path = System.IO.Path.Combine(model.Directory, file.Path);
            var info = new FileInfo(path);
            if (!info.Exists)
                return $"'{file.Path}' is missing";
            if (info.Length != file.Size)
                return $"'{file.Path}' is {info.Length} bytes, the manifest says {file.Size}";
            if (ModelPackage.HashFile(path) != file.Sha256)
                return $"'{file.Path}' does not match its SHA-256 in the manifest";
        }
        return null;
    }

    /// <summary>
    /// The model to serve after a start: <see cref="Current"/> when its files match its manifest;
    /// otherwise (its files were damaged on disk) the previous model, which becomes current, with
    /// the reason in <paramref name="repair"/>. Null when neither is complete.
    /// </summary>
    public InstalledModel? OpenVerified(out string? repair)
    {
        repair = null;
        var current = Current;
        if (current is null || FindDamage(current) is not { } damage)
            return current;
        var previous = Previous;
        if (previous is not null && FindDamage(previous) is null)
        {
            WritePointer(CurrentPointer, Path.GetFileName(previous.Directory));
            File.Delete(Path.Combine(Root, PreviousPointer));
            repair = $"{current.Manifest.Name} {current.Manifest.Version} is damaged ({damage}); serving {previous.Manifest.Version} instead.";
            return previous;
        }
        repair = $"{current.Manifest.Name} {current.Manifest.Version} is damaged ({damage}) and there is no complete previous model.";
        return null;
    }

    /// <summary>
    /// Removes what a process killed in the middle of <see cref="Install"/> leaves behind: staging
    /// folders and half-written pointer files. The pointers themselves are replaced atomically.
    /// </summary>
    private void RemoveLeftovers()
    {
        foreach (var staging in Directory.GetDirectories(Root, ".staging-*"))
            Directory.Delete(staging, recursive: true);
        foreach (var temp in Directory.GetFiles(Root, "*.tmp"))
            File.Delete(temp);
    }

    private InstalledModel? Read(string pointer)
    {
        string file = Path.Combine(Root, pointer);
        if (!File.Exists(file))
            return null;
        string dir = Path.Combine(VersionsDirectory, File.ReadAllText(file).Trim());
        string manifest = Path.Combine(dir, ManifestFiles.Manifest);
        if (!File.Exists(manifest))
            return null;
        var parsed = JsonSerializer.Deserialize(File.ReadAllBytes(manifest), PackageJson.Default.ModelManifest);
        return parsed is null ? null : new InstalledModel(dir, parsed);
    }

    private void WritePointer(string pointer, string target)
    {
        string file = Path.Combine(Root, pointer);
        string temp = file + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(target));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, file, overwrite: true);
    }

    private void Prune(string[] keep)
    {
        var versions = Versions;
        var recent = versions.Skip(Math.Max(0, versions.Count - KeepVersions)).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        foreach (var dir in versions)
        {
            string name = Path.GetFileName(dir);
            if (!keep.Contains(name) && !recent.Contains(name))
                Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Sort key in install order: a version folder is <c>v{counter}-{utc yyyyMMddHHmmssfffffff}-{random}</c>,
    /// so the timestamp comes first (a reinstall after a rollback can carry a lower counter), then the name.
    /// </summary>
    private static string InstallOrder(string name)
    {
        var parts = name.Split('-', 3);
        return parts.Length == 3 ? $"{parts[1]}-{name}" : name;
    }
}

namespace EdgeTL.Cloud;

/// <summary>
/// A verb's output folder, written all or nothing: files go into a fresh staging folder under the
/// system's temporary folder and are moved to the destination only when the verb succeeded. A failed or cancelled verb leaves
/// no partial output (and no empty folder) behind.
/// </summary>
internal static class StagedOutput
{
    /// <summary>Runs <paramref name="write"/> on a staging folder, then moves what it wrote into <paramref name="destination"/> (replacing files of the same name).</summary>
    public static T Write<T>(string destination, Func<string, T> write)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(destination);
        string staging = Directory.CreateTempSubdirectory("edgetl-cloud-staging-").FullName;
        try
        {
            var result = write(staging);
            Directory.CreateDirectory(full);
            foreach (var file in Directory.EnumerateFiles(staging))
                File.Move(file, Path.Combine(full, Path.GetFileName(file)), overwrite: true);
            foreach (var folder in Directory.EnumerateDirectories(staging))
            {
                string target = Path.Combine(full, Path.GetFileName(folder));
                if (Directory.Exists(target))
                    Directory.Delete(target, recursive: true);   // a folder of the output is replaced whole, like a file
                MoveDirectory(folder, target);
            }
            return result;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Moves a folder, across file systems too (the staging folder lives under the temporary folder).</summary>
    private static void MoveDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
            File.Move(file, Path.Combine(target, Path.GetFileName(file)));
        foreach (var folder in Directory.EnumerateDirectories(source))
            MoveDirectory(folder, Path.Combine(target, Path.GetFileName(folder)));
    }
}

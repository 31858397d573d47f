using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training;

/// <summary>Saves and loads module weights atomically (write a temporary file, then rename over the target).</summary>
public static class Checkpoint
{
    /// <summary>Writes the module's state dict to <paramref name="path"/>; a crash leaves the old file or the new one, never half of one.</summary>
    public static void Save(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            module.save(temp);
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
                stream.Flush(flushToDisk: true);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>Loads weights saved by <see cref="Save"/> into <paramref name="module"/>.</summary>
    /// <exception cref="EdgeTrainerException">Missing, corrupt or mismatched file.</exception>
    public static void Load(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!File.Exists(path))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidCheckpoint, $"Checkpoint '{path}' does not exist.");
        try
        {
            module.load(path, strict: true);
        }
        catch (Exception e) when (e is not EdgeTrainerException)
        {
            throw new EdgeTrainerException(TrainerErrorCode.InvalidCheckpoint, $"Checkpoint '{path}' could not be loaded: {e.Message}", e);
        }
    }
}

using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop;

/// <summary>
/// The one place that decides what a weights file is and loads it: a PyTorch
/// <c>torch.save(model.state_dict())</c> zip (via TorchSharp.PyBridge's unpickler), a
/// <c>.safetensors</c> file, or a TorchSharp <c>Module.save</c> checkpoint (what
/// <see cref="Training.Checkpoint"/> and <c>pretrain</c> write). The format is told by content
/// alone; the extension is never consulted, so a file with a misleading name loads as what it is.
/// </summary>
public static class WeightFiles
{
    /// <summary>How much of a file <see cref="Detect"/> reads: room for a TorchSharp first entry header.</summary>
    private const int ProbeBytes = 8192;

    /// <summary>
    /// The format of <paramref name="path"/>, from its first bytes. The rest of the file is not
    /// checked here: truncation past the first bytes is found when it is read.
    /// </summary>
    /// <exception cref="EdgeTrainerException"><see cref="TrainerErrorCode.InvalidWeightsFile"/>: missing, or none of the formats.</exception>
    public static WeightFormat Detect(string path)
    {
        EnsureExists(path);
        byte[] probe;
        using (var stream = File.OpenRead(path))
        {
            probe = new byte[(int)Math.Min(ProbeBytes, stream.Length)];
            stream.ReadExactly(probe);
        }
        return Identify(probe, path);
    }

    /// <summary>Loads every tensor of a weights file (CPU). Unknown, corrupt or truncated files give <see cref="TrainerErrorCode.InvalidWeightsFile"/>.</summary>
    public static Dictionary<string, Tensor> Read(string path) => Read(path, out _);

    /// <summary>As <see cref="Read(string)"/>, also telling which format the file was.</summary>
    public static Dictionary<string, Tensor> Read(string path, out WeightFormat format)
    {
        EnsureExists(path);
        byte[] bytes = File.ReadAllBytes(path);
        format = Identify(bytes, path);
        return format switch
        {
            WeightFormat.PyTorch => ReadPyTorch(bytes, path),
            WeightFormat.SafeTensors => SafeTensors.Parse(bytes, path),
            _ => TorchSharpWeights.Parse(bytes, path),
        };
    }

    /// <summary>
    /// Reads <paramref name="path"/>, whatever its format, and copies it into <paramref name="model"/>
    /// with <see cref="StateDictLoader.Load"/> (key prefix detection, head skipping, a key-listing
    /// <see cref="TrainerErrorCode.WeightsMismatch"/> when it does not fit; nothing is copied then).
    /// </summary>
    /// <exception cref="EdgeTrainerException"><see cref="TrainerErrorCode.InvalidWeightsFile"/> or <see cref="TrainerErrorCode.WeightsMismatch"/>.</exception>
    public static WeightLoadReport Load(nn.Module model, string path, WeightLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = Read(path, out var format);
        try
        {
            return StateDictLoader.Load(model, state, options) with { Format = format };
        }
        catch (EdgeTrainerException e) when (e.Code == TrainerErrorCode.WeightsMismatch)
        {
            string hint = MatchingArchitecture(state) is { } fits
                ? $"These weights are a '{fits}' backbone: pass --arch {fits} (or build a '{fits}' model). "
                : $"These weights fit none of the zoo architectures ({string.Join(", ", Backbones.BackboneZoo.Architectures)}). ";
            throw new EdgeTrainerException(TrainerErrorCode.WeightsMismatch, hint + e.Message, e);
        }
        finally
        {
            foreach (var t in state.Values)
                t.Dispose();
        }
    }

    /// <summary>The zoo architecture whose backbone <paramref name="state"/> fits (classifier aside), or null when none does.</summary>
    public static string? MatchingArchitecture(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var copy = state.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (string architecture in Backbones.BackboneZoo.Architectures)
        {
            using var scope = NewDisposeScope();
            using var reference = Backbones.BackboneZoo.CreateReference(architecture);
            try
            {
                StateDictLoader.Load(reference, copy, new WeightLoadOptions { SkipHead = true });
                return architecture;
            }
            catch (EdgeTrainerException e) when (e.Code == TrainerErrorCode.WeightsMismatch)
            {
                // not this one
            }
        }
        return null;
    }

    private static void EnsureExists(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile, $"Weights file '{path}' does not exist.");
    }

    private static WeightFormat Identify(ReadOnlySpan<byte> head, string path)
    {
        if (head.Length >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)
            return WeightFormat.PyTorch;
        if (head.Length >= 9 && head[8] == (byte)'{')
            return WeightFormat.SafeTensors;
        if (TorchSharpWeights.LooksLike(head))
            return WeightFormat.TorchSharp;
        throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile,
            $"'{path}' is neither a PyTorch zip checkpoint (torch.save, PyTorch ≥ 1.6), a safetensors file nor a TorchSharp checkpoint (Module.save, as pretrain writes).");
    }

    private static Dictionary<string, Tensor> ReadPyTorch(byte[] bytes, string path)
    {
        Hashtable table;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            table = PyTorchUnpickler.UnpickleStateDict(stream);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or NotSupportedException
            or InvalidOperationException or ArgumentException or KeyNotFoundException or InvalidCastException
            or Razorvine.Pickle.PickleException or NullReferenceException)
        {
            throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile,
                $"'{path}' could not be read as a PyTorch state dict ({e.GetType().Name}: {e.Message}). Save it with torch.save(model.state_dict(), path).", e);
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is not string key || entry.Value is not Tensor tensor)
                throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile,
                    $"'{path}' holds a '{entry.Value?.GetType().Name}' under '{entry.Key}'; only a state dict of tensors can be loaded (torch.save(model.state_dict())).");
            result[key] = tensor;
        }
        return result;
    }
}

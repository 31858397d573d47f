using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop;

/// <summary>
/// Reads a state dict from a PyTorch <c>torch.save(model.state_dict())</c> file (zip format,
/// via TorchSharp.PyBridge's unpickler) or a <c>.safetensors</c> file, told apart by content,
/// not by extension.
/// </summary>
public static class WeightFiles
{
    /// <summary>Loads every tensor of a weights file. Unknown, corrupt or truncated files give <see cref="TrainerErrorCode.InvalidWeightsFile"/>.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile, $"Weights file '{path}' does not exist.");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length >= 4 && bytes[0] == (byte)'P' && bytes[1] == (byte)'K')
            return ReadPyTorch(bytes, path);
        if (bytes.Length >= 9 && bytes[8] == (byte)'{')
            return SafeTensors.Parse(bytes, path);
        throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile,
            $"'{path}' is neither a PyTorch zip checkpoint (torch.save, PyTorch ≥ 1.6) nor a safetensors file.");
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

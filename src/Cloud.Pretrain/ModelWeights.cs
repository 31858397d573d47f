using EdgeTL.Trainer;
using EdgeTL.Trainer.Interop;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Cloud;

/// <summary>Loads a verb's <c>--weights</c> into a <see cref="TransferModel"/>.</summary>
internal static class ModelWeights
{
    /// <summary>
    /// A PyTorch zip or safetensors state dict (told apart by content; a classifier of another
    /// shape is skipped), else a <c>pretrain</c> checkpoint (TorchSharp format). A checkpoint
    /// whose head has another number of classes gives its backbone only; the head stays freshly
    /// initialized. Returns true when the head was loaded too.
    /// </summary>
    public static bool Load(TransferModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!File.Exists(path))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile, $"Weights file '{path}' does not exist.");
        var head = new byte[9];
        using (var stream = File.OpenRead(path))
            stream.ReadExactly(head, 0, (int)Math.Min(9, stream.Length));
        bool stateDict = (head[0] == (byte)'P' && head[1] == (byte)'K') || head[8] == (byte)'{';
        if (stateDict)
        {
            var report = StateDictLoader.LoadFile(model, path, new WeightLoadOptions { SkipHead = true });
            return report.Loaded.Any(k => k.StartsWith("head.", StringComparison.Ordinal));
        }
        try
        {
            Checkpoint.Load(model, path);
            return true;
        }
        catch (EdgeTrainerException e) when (e.Code == TrainerErrorCode.InvalidCheckpoint)
        {
            // Another class count: the head's tensors are read past, the backbone's loaded.
            string[] headKeys = [.. model.state_dict().Keys.Where(k => k.StartsWith("head.", StringComparison.Ordinal))];
            try
            {
                model.load(path, strict: false, skip: headKeys);
            }
            catch (Exception inner) when (inner is not EdgeTrainerException)
            {
                throw new EdgeTrainerException(TrainerErrorCode.InvalidCheckpoint, $"Checkpoint '{path}' could not be loaded into {model.Backbone.Architecture}: {inner.Message}", inner);
            }
            return false;
        }
    }
}

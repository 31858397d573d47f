using EdgeTL.Trainer.Interop;
using EdgeTL.Trainer.Models;

namespace EdgeTL.Cloud;

/// <summary>Loads a verb's <c>--weights</c> into a <see cref="TransferModel"/>.</summary>
internal static class ModelWeights
{
    /// <summary>
    /// Any weights file <see cref="WeightFiles"/> knows: a PyTorch zip or safetensors state dict, or
    /// a <c>pretrain</c> checkpoint (TorchSharp format), told apart by content. A classifier of
    /// another shape (a torchvision <c>fc</c>, or a checkpoint's head with another number of
    /// classes) is skipped and the head stays freshly initialized. Returns true when the head was
    /// loaded too.
    /// </summary>
    public static bool Load(TransferModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var report = WeightFiles.Load(model, path, new WeightLoadOptions { SkipHead = true });
        return report.Loaded.Any(k => k.StartsWith("head.", StringComparison.Ordinal));
    }
}

using EdgeTL.Trainer;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop;
using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

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

    /// <summary>Where torchvision keeps the last classifier layer: ResNet, MobileNetV2, MobileNetV3.</summary>
    private static readonly string[] ClassifierKeys = ["fc.weight", "classifier.1.weight", "classifier.3.weight"];

    /// <summary>
    /// torchvision's model as the weights hold it: the backbone, and their classifier (<paramref name="classes"/>
    /// outputs) as a one-layer head with its own weights, so its logits are PyTorch's.
    /// </summary>
    public static TransferModel WithTorchvisionClassifier(string architecture, string path, int classes)
    {
        var model = new TransferModel(BackboneZoo.Create(architecture), classes, new HeadOptions { Hidden = 0 });
        try
        {
            Load(model, path);
            CopyClassifier(path, model);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Copies the weights' torchvision classifier (fc / classifier) into <paramref name="model"/>'s one-layer head.</summary>
    private static void CopyClassifier(string path, TransferModel model)
    {
        var state = WeightFiles.Read(path);
        try
        {
            string prefix = ClassifierKeys.First(k => state.ContainsKey(k)).Replace(".weight", "", StringComparison.Ordinal);
            var linear = model.Head.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
            using var noGrad = no_grad();
            linear["0.weight"].copy_(state[prefix + ".weight"]);
            linear["0.bias"].copy_(state[prefix + ".bias"]);
        }
        finally
        {
            foreach (var t in state.Values)
                t.Dispose();
        }
    }

    /// <summary>The class count of a torchvision classifier in the weights (fc / classifier), when they hold one that fits <paramref name="architecture"/>.</summary>
    public static int? TorchvisionClassifierClasses(string architecture, string path)
    {
        var state = WeightFiles.Read(path);
        try
        {
            var key = ClassifierKeys.FirstOrDefault(state.ContainsKey);
            if (key is null || state[key].dim() != 2)
                return null;
            int c = (int)state[key].shape[0];
            using var probe = BackboneZoo.CreateReference(architecture, numClasses: c);
            try
            {
                StateDictLoader.Load(probe, state, new WeightLoadOptions { SkipHead = false });
                return c;
            }
            catch (EdgeTrainerException e) when (e.Code == TrainerErrorCode.WeightsMismatch)
            {
                return null;
            }
        }
        finally
        {
            foreach (var t in state.Values)
                t.Dispose();
        }
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Models;

/// <summary>
/// Builds the seed's head as an <c>nn.Sequential</c>, so state-dict keys are PyTorch's
/// (<c>0.weight</c>, <c>3.bias</c>…): [N, inFeatures] → [N, classes].
/// </summary>
public static class ClassifierHead
{
    /// <summary>
    /// Creates <c>Linear(inFeatures, hidden)-ReLU-Dropout(p)-Linear(hidden, classes)</c>, or with
    /// <see cref="HeadOptions.Hidden"/> 0 a single <c>Linear(inFeatures, classes)</c> (torchvision's own
    /// classifier, as a model fine-tuned in PyTorch carries it; its dropout is inactive when serving).
    /// </summary>
    public static nn.Module<Tensor, Tensor> Create(int inFeatures, int classes, HeadOptions? options = null)
    {
        options ??= new HeadOptions();
        if (inFeatures < 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"Head input width must be ≥ 1, got {inFeatures}.");
        if (classes < 2)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"A classifier needs ≥ 2 classes, got {classes}.");
        if (options.Hidden < 0 || options.Dropout is < 0 or >= 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"Head hidden width must be ≥ 0 (0: one linear layer) and dropout in [0, 1), got {options.Hidden} and {options.Dropout}.");
        if (options.Hidden == 0)
            return nn.Sequential(("0", nn.Linear(inFeatures, classes)));
        return nn.Sequential(
            ("0", nn.Linear(inFeatures, options.Hidden)),
            ("1", nn.ReLU()),
            ("2", nn.Dropout(options.Dropout)),
            ("3", nn.Linear(options.Hidden, classes)));
    }
}

using static TorchSharp.torch;

namespace EdgeTL.Trainer.Models;

/// <summary>
/// What the training loop needs from a model: a forward pass, its named layer groups
/// (frozen or not), and a way to switch modes that respects frozen groups.
/// </summary>
public interface ITrainable
{
    /// <summary>The network: [N, …] inputs → [N, classes] logits.</summary>
    nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>Layer groups, bottom (stem) to top (head).</summary>
    IReadOnlyList<LayerGroup> Groups { get; }

    /// <summary>Number of classes the network predicts.</summary>
    int ClassCount { get; }

    /// <summary>
    /// Training mode for trainable groups; frozen groups stay in evaluation mode so their
    /// BatchNorm statistics do not drift. <c>false</c> puts everything in evaluation mode.
    /// </summary>
    void SetTrainingMode(bool training);
}

using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Backbones;

/// <summary>
/// One contract for every backbone: pooled features, their width, and the named layer groups
/// (stem, stage1…stage4) that freezing, unfreeze schedules and discriminative LRs act on.
/// </summary>
public interface IBackbone
{
    /// <summary>Architecture name, e.g. <c>resnet18</c>.</summary>
    string Architecture { get; }

    /// <summary>Width D of the pooled features.</summary>
    int FeatureDim { get; }

    /// <summary>The backbone as a module (for modes, devices and state dicts).</summary>
    nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>Smallest input side the backbone accepts.</summary>
    int MinInputSize { get; }

    /// <summary>Layer groups from input to output: stem, stage1, stage2, stage3, stage4.</summary>
    IReadOnlyList<LayerGroup> LayerGroups { get; }

    /// <summary>[N, 3, H, W] normalized images (H, W ≥ <see cref="MinInputSize"/>) → [N, D] globally average-pooled features.</summary>
    Tensor ForwardFeatures(Tensor input);
}

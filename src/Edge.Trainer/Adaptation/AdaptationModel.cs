using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// What adapts on a device: a bottleneck <c>Linear(d, b)-BatchNorm1d-ReLU</c> over frozen backbone
/// features, then the seed head. Domain alignment acts on the bottleneck's output (TLlib's
/// <c>ImageClassifier</c> shape with the backbone frozen). Shapes: [N, d] → [N, classes].
/// </summary>
public sealed class AdaptationModel : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> bottleneck;
    private readonly nn.Module<Tensor, Tensor> head;

    /// <summary>A model for <paramref name="featureDim"/>-wide features and <paramref name="classes"/> classes.</summary>
    public AdaptationModel(int featureDim, int bottleneckDim, int classes) : base(nameof(AdaptationModel))
    {
        bottleneck = nn.Sequential(("0", nn.Linear(featureDim, bottleneckDim)), ("1", nn.BatchNorm1d(bottleneckDim)), ("2", nn.ReLU()));
        head = ClassifierHead.Create(bottleneckDim, classes);
        FeatureDim = featureDim;
        BottleneckDim = bottleneckDim;
        ClassCount = classes;
        RegisterComponents();
    }

    /// <summary>d, the backbone feature width.</summary>
    public int FeatureDim { get; }

    /// <summary>b, the width of the aligned features.</summary>
    public int BottleneckDim { get; }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>Backbone features [N, d] → aligned features [N, b].</summary>
    public Tensor Embed(Tensor features)
    {
        InputGuard.RequireFeatures(features, FeatureDim);
        return bottleneck.forward(features);
    }

    /// <summary>Aligned features [N, b] → logits [N, classes].</summary>
    public Tensor Classify(Tensor embedded) => head.forward(embedded);

    /// <summary>Backbone features [N, d] → logits [N, classes].</summary>
    public override Tensor forward(Tensor features) => Classify(Embed(features));
}

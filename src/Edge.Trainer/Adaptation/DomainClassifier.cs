using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// The domain discriminator of DANN: features [N, d] → domain logits [N, 2] (0 = source,
/// 1 = target). The seed's shape is <c>Linear(d, 256)-ReLU-Linear(256, 2)</c>; the hidden width and
/// depth are configurable (TLlib's <c>DomainDiscriminator</c> uses two hidden layers of 1,024).
/// </summary>
public sealed class DomainClassifier : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> layers;

    /// <summary>A classifier of <paramref name="featureDim"/>-wide features with <paramref name="hiddenLayers"/> hidden layers of <paramref name="hidden"/> units.</summary>
    public DomainClassifier(int featureDim, int hidden = 256, int hiddenLayers = 1) : base(nameof(DomainClassifier))
    {
        if (featureDim < 1 || hidden < 1 || hiddenLayers < 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, "The domain classifier needs positive widths and at least one hidden layer.");
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        int width = featureDim;
        for (int i = 0; i < hiddenLayers; i++)
        {
            modules.Add(($"{2 * i}", nn.Linear(width, hidden)));
            modules.Add(($"{(2 * i) + 1}", nn.ReLU()));
            width = hidden;
        }
        modules.Add(($"{2 * hiddenLayers}", nn.Linear(width, 2)));
        layers = nn.Sequential(modules);
        FeatureDim = featureDim;
        RegisterComponents();
    }

    /// <summary>Width of the features it classifies.</summary>
    public int FeatureDim { get; }

    /// <summary>[N, d] → [N, 2] logits.</summary>
    public override Tensor forward(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2 || features.shape[1] != FeatureDim)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"The domain classifier expects [N, {FeatureDim}], got [{string.Join(", ", features.shape)}].");
        return layers.forward(features);
    }
}

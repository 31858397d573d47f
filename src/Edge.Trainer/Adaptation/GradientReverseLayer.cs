using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// Gradient reversal layer (GRL): returns its input unchanged, and multiplies the gradient that
/// flows back through it by −<see cref="Coefficient"/>. Placed between the feature extractor and
/// a domain classifier, minimizing the domain loss trains the classifier to tell domains apart
/// and, through the reversed gradient, the features to make that impossible (Ganin and
/// Lempitsky, ICML 2015; TLlib's <c>GradientReverseLayer</c>). Shapes: [N, …] → [N, …].
/// </summary>
public sealed class GradientReverseLayer : nn.Module<Tensor, Tensor>
{
    /// <summary>A layer with coefficient λ = <paramref name="coefficient"/>.</summary>
    public GradientReverseLayer(double coefficient = 1.0) : base(nameof(GradientReverseLayer)) => Coefficient = coefficient;

    /// <summary>λ ≥ 0, the factor of the reversed gradient; usually set each step by <see cref="GrlSchedule"/>.</summary>
    public double Coefficient { get; set; }

    /// <summary>Identity; the reversal happens in backward.</summary>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return GradientReversal.apply(input, Coefficient);
    }
}

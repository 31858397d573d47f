using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// The seed's adaptive weight of the transfer loss: w = sigmoid(scale · ‖μ_s − μ_t‖), where μ are
/// the mean feature vectors of the source and target batches. Distant domains get a weight near 1,
/// close ones about 0.5 and below. Computed without gradient: it weights the loss, it is not trained.
/// </summary>
public static class DynamicTransferWeight
{
    /// <summary>The seed's scale, 0.1.</summary>
    public const double DefaultScale = 0.1;

    /// <summary>w for source features [n, d] and target features [m, d].</summary>
    public static double Compute(Tensor source, Tensor target, double scale = DefaultScale)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.dim() != 2 || target.dim() != 2 || source.shape[1] != target.shape[1])
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"The transfer weight needs source [n, d] and target [m, d]; got [{string.Join(", ", source.shape)}] and [{string.Join(", ", target.shape)}].");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double distance = (source.mean([0]) - target.mean([0])).norm().item<float>();
        return 1.0 / (1.0 + Math.Exp(-scale * distance));
    }
}

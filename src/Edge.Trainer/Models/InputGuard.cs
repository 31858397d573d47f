using static TorchSharp.torch;

namespace EdgeTL.Trainer.Models;

/// <summary>Checks model inputs at public edges and turns bad ones into typed errors.</summary>
public static class InputGuard
{
    /// <summary>Requires [N, channels, H, W] with N ≥ 1, H, W ≥ minSize, and only finite values.</summary>
    public static void RequireImages(Tensor input, int channels, int minSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"Expected images [N, {channels}, H, W], got a tensor of shape [{string.Join(", ", input.shape)}].");
        if (input.shape[0] == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "The input batch has no images.");
        if (input.shape[1] != channels)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"Expected {channels} channels, got {input.shape[1]} (shape [{string.Join(", ", input.shape)}]).");
        if (input.shape[2] < minSize || input.shape[3] < minSize)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"Images must be at least {minSize}×{minSize}, got {input.shape[2]}×{input.shape[3]}.");
        RequireFinite(input);
    }

    /// <summary>Requires [N, width] features with N ≥ 1 and only finite values.</summary>
    public static void RequireFeatures(Tensor input, int width)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 2 || input.shape[1] != width)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"Expected features [N, {width}], got shape [{string.Join(", ", input.shape)}].");
        if (input.shape[0] == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "The feature batch is empty.");
        RequireFinite(input);
    }

    /// <summary>Requires integer labels in [0, classes).</summary>
    public static void RequireLabels(Tensor labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.numel() == 0)
            return;
        long min = labels.min().item<long>(), max = labels.max().item<long>();
        if (min < 0 || max >= classes)
            throw new EdgeTrainerException(TrainerErrorCode.LabelOutOfRange,
                $"Labels must lie in [0, {classes}); found {(min < 0 ? min : max)}.");
    }

    private static void RequireFinite(Tensor input)
    {
        using var finite = input.isfinite().all();
        if (!finite.item<bool>())
            throw new EdgeTrainerException(TrainerErrorCode.NonFiniteInput, "The input contains NaN or infinite values.");
    }
}

using System.Text.Json;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training.Precision;

/// <summary>Settings of the dynamic loss scaler (PyTorch GradScaler's defaults).</summary>
public sealed record LossScalerOptions
{
    /// <summary>Starting scale, 2^16.</summary>
    public double InitialScale { get; init; } = 65536;

    /// <summary>Multiplier after <see cref="GrowthInterval"/> clean steps.</summary>
    public double GrowthFactor { get; init; } = 2;

    /// <summary>Multiplier after a step with an inf or NaN gradient.</summary>
    public double BackoffFactor { get; init; } = 0.5;

    /// <summary>Clean steps before the scale grows.</summary>
    public int GrowthInterval { get; init; } = 2000;
}

/// <summary>The scaler's state, saved beside checkpoints.</summary>
/// <param name="Scale">Current scale.</param>
/// <param name="CleanSteps">Clean steps since the last change.</param>
/// <param name="SkippedSteps">Steps skipped for non-finite gradients, in total.</param>
public sealed record LossScalerState(double Scale, int CleanSteps, long SkippedSteps);

/// <summary>
/// Dynamic loss scaling for fp16 training, with GradScaler's behaviour: the loss is multiplied
/// by the scale before backward; gradients are unscaled (into the fp32 master weights) before
/// clipping; a step whose gradients hold inf or NaN is skipped and the scale halves; after
/// 2,000 clean steps in a row the scale doubles.
/// </summary>
public sealed class DynamicLossScaler
{
    private readonly LossScalerOptions _options;

    /// <summary>Creates a scaler at its initial scale.</summary>
    public DynamicLossScaler(LossScalerOptions? options = null)
    {
        _options = options ?? new LossScalerOptions();
        if (!(_options.InitialScale > 0) || !(_options.GrowthFactor > 1) || _options.BackoffFactor is <= 0 or >= 1 || _options.GrowthInterval < 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, "Loss scaler: scale > 0, growth > 1, backoff in (0, 1), interval ≥ 1.");
        Scale = _options.InitialScale;
    }

    /// <summary>Current scale.</summary>
    public double Scale { get; private set; }

    /// <summary>Clean steps since the scale last changed.</summary>
    public int CleanSteps { get; private set; }

    /// <summary>Steps skipped so far.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>The loss times the scale, for backward.</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return loss * Scale;
    }

    /// <summary>Records a step: an overflow halves the scale and counts a skip; clean steps grow it at the interval.</summary>
    /// <returns>True when the optimizer step should be applied.</returns>
    public bool Update(bool gradientsFinite)
    {
        if (!gradientsFinite)
        {
            Scale *= _options.BackoffFactor;
            CleanSteps = 0;
            SkippedSteps++;
            return false;
        }
        if (++CleanSteps >= _options.GrowthInterval)
        {
            Scale *= _options.GrowthFactor;
            CleanSteps = 0;
        }
        return true;
    }

    /// <summary>The state to save.</summary>
    public LossScalerState State => new(Scale, CleanSteps, SkippedSteps);

    /// <summary>Restores a saved state.</summary>
    public void Load(LossScalerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!(state.Scale > 0) || !double.IsFinite(state.Scale) || state.CleanSteps < 0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidCheckpoint, $"Loss scaler state {state} is not valid.");
        (Scale, CleanSteps, SkippedSteps) = (state.Scale, state.CleanSteps, state.SkippedSteps);
    }

    /// <summary>Writes the state beside a checkpoint (<c>checkpoint.scaler.json</c>), atomically.</summary>
    public void Save(string checkpointPath)
    {
        string path = checkpointPath + ".scaler.json";
        string temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(State, PrecisionJson.Default.LossScalerState));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads the state saved beside <paramref name="checkpointPath"/>; false when there is none.</summary>
    public bool TryRestore(string checkpointPath)
    {
        string path = checkpointPath + ".scaler.json";
        if (!File.Exists(path))
            return false;
        LossScalerState? state;
        try
        {
            state = JsonSerializer.Deserialize(File.ReadAllText(path), PrecisionJson.Default.LossScalerState);
        }
        catch (JsonException e)
        {
            throw new EdgeTrainerException(TrainerErrorCode.InvalidCheckpoint, $"'{path}' is not a loss-scaler state: {e.Message}", e);
        }
        Load(state ?? throw new EdgeTrainerException(TrainerErrorCode.InvalidCheckpoint, $"'{path}' is empty."));
        return true;
    }
}

/// <summary>Source-generated JSON for precision state.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(LossScalerState))]
internal sealed partial class PrecisionJson : System.Text.Json.Serialization.JsonSerializerContext;

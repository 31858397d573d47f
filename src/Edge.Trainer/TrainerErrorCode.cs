namespace EdgeTL.Trainer;

/// <summary>What went wrong in Edge.Trainer, for callers that branch on the failure.</summary>
public enum TrainerErrorCode
{
    /// <summary>The architecture name is not in the zoo.</summary>
    UnknownArchitecture,
    /// <summary>A tensor has the wrong rank, channel count or spatial size.</summary>
    InvalidInputShape,
    /// <summary>An input holds NaN or infinity.</summary>
    NonFiniteInput,
    /// <summary>The loss became NaN or infinite; the step was not applied.</summary>
    NonFiniteLoss,
    /// <summary>A dataset or feature set has no samples.</summary>
    EmptyDataset,
    /// <summary>A label lies outside [0, classes).</summary>
    LabelOutOfRange,
    /// <summary>A layer group name is unknown to the model.</summary>
    UnknownLayerGroup,
    /// <summary>Options are inconsistent or out of range.</summary>
    InvalidConfiguration,
    /// <summary>A checkpoint file could not be read or does not fit the model.</summary>
    InvalidCheckpoint,
    /// <summary>A weights file (<c>.pt</c>, <c>.safetensors</c>) is corrupt, truncated or of an unknown format.</summary>
    InvalidWeightsFile,
    /// <summary>A state dict does not fit the model: missing, unexpected or mis-shaped keys.</summary>
    WeightsMismatch,
    /// <summary>An ONNX file is corrupt, truncated, or its graph is malformed.</summary>
    InvalidOnnxModel,
    /// <summary>An ONNX graph uses an operator, attribute or opset the importer does not support.</summary>
    UnsupportedOnnxOperator,
    /// <summary>A module has no ONNX export rule.</summary>
    UnsupportedExport,
    /// <summary>libtorch could not be loaded on this machine, so training is unavailable.</summary>
    TorchUnavailable,
    /// <summary>The loss exploded past the divergence guard (<c>TrainerOptions.DivergenceFactor</c>); the step was not applied.</summary>
    Diverged,
    /// <summary>The model lacks what the method needs (BatchNorm layers for BN re-estimation and Tent).</summary>
    UnsupportedModel,
}

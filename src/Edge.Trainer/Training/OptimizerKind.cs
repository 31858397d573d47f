namespace EdgeTL.Trainer.Training;

/// <summary>Optimizer families.</summary>
public enum OptimizerKind
{
    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,
    /// <summary>SGD with momentum.</summary>
    Sgd,
}

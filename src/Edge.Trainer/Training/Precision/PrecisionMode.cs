namespace EdgeTL.Trainer.Training.Precision;

/// <summary>Compute precision of training. Master weights, BatchNorm, softmax, loss and optimizer state stay fp32 in every mode.</summary>
public enum PrecisionMode
{
    /// <summary>Everything fp32.</summary>
    Fp32,
    /// <summary>bfloat16 compute (fp32's range, 8 bits of mantissa): no loss scaling needed.</summary>
    Bf16,
    /// <summary>float16 compute with dynamic loss scaling (GradScaler's behaviour).</summary>
    Fp16,
    /// <summary>fp16 on CUDA; on a CPU with native bf16, bf16 when a measurement of the first batch finds it faster than fp32 (<see cref="PrecisionProbe"/>); otherwise fp32.</summary>
    Auto,
}

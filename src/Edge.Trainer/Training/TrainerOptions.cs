namespace EdgeTL.Trainer.Training;

/// <summary>Settings of one training run.</summary>
public sealed record TrainerOptions
{
    /// <summary>Number of epochs (≥ 1).</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Optimizer family.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    /// <summary>Per-group learning rates.</summary>
    public LearningRatePolicy LearningRates { get; init; } = new();
    /// <summary>Weight decay (decoupled for AdamW, L2 for SGD).</summary>
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;
    /// <summary>Rate schedule over epochs.</summary>
    public LrScheduleKind Schedule { get; init; } = LrScheduleKind.Cosine;
    /// <summary>Epochs between decays of the step schedule.</summary>
    public int StepSize { get; init; } = 10;
    /// <summary>Decay factor of the step schedule.</summary>
    public double StepGamma { get; init; } = 0.1;
    /// <summary>
    /// When set, the run starts with the backbone frozen (head-only warm-up) and unfreezes groups
    /// as scheduled. When null, whatever is trainable at the start trains throughout.
    /// </summary>
    public UnfreezeSchedule? Unfreeze { get; init; }
    /// <summary>Stop after this many epochs without a lower validation loss (0 = never).</summary>
    public int EarlyStoppingPatience { get; init; }
    /// <summary>At the end, put back the weights of the epoch with the lowest validation loss.</summary>
    public bool RestoreBest { get; init; } = true;
    /// <summary>Write the best weights here (atomically: temporary file, then rename).</summary>
    public string? CheckpointPath { get; init; }
    /// <summary>
    /// Where the network is saved after every epoch, before the epoch is reported: the checkpoint an
    /// interrupted run resumes from (with <see cref="StartEpoch"/>). Null: not saved.
    /// </summary>
    public string? EpochCheckpointPath { get; init; }
    /// <summary>
    /// The first epoch to run: a resumed run starts where the interrupted one stopped, with the groups
    /// the unfreeze schedule had opened by then and the learning-rate schedule at that epoch. The
    /// optimizer's moments start afresh.
    /// </summary>
    public int StartEpoch { get; init; }
    /// <summary>Clip the global gradient norm to this value (0 = off).</summary>
    public double GradientClipNorm { get; init; }
    /// <summary>
    /// Keep every BatchNorm layer in evaluation mode while training, so it normalizes with its
    /// pretrained running statistics and they do not change (its scale and shift still train).
    /// Use it for few-shot fine-tuning: batch statistics of a handful of images, or of the 1×1
    /// maps of the last stage at small inputs, are too noisy to train with.
    /// </summary>
    public bool FreezeBatchNormStatistics { get; init; }
    /// <summary>
    /// Apply <see cref="AllocatorPolicy.BoundRetention"/> for the run and <see cref="AllocatorPolicy.Trim"/>
    /// at its end, so resident memory stays flat over long runs and returns to the system after them.
    /// </summary>
    public bool BoundNativeMemory { get; init; } = true;
    /// <summary>Seed for dropout and initialization done during the run.</summary>
    public int Seed { get; init; }
    /// <summary>
    /// Compute precision (fp32, bf16, fp16, or auto from the device). In reduced precision the
    /// network computes in bf16/fp16 with BatchNorm in fp32, while fp32 master weights and the
    /// optimizer state are what is updated; fp16 adds dynamic loss scaling.
    /// </summary>
    public EdgeTL.Trainer.Training.Precision.PrecisionMode Precision { get; init; } = EdgeTL.Trainer.Training.Precision.PrecisionMode.Fp32;
    /// <summary>The fp16 loss scaler's settings (GradScaler's defaults).</summary>
    public EdgeTL.Trainer.Training.Precision.LossScalerOptions LossScaler { get; init; } = new();
    /// <summary>Batches whose gradients add up before one optimizer step (small-memory devices).</summary>
    public int AccumulationSteps { get; init; } = 1;
    /// <summary>
    /// TinyTL's "lite" update: in trainable backbone groups only biases train (weights stay
    /// frozen); the head trains fully.
    /// </summary>
    public bool BiasOnly { get; init; }
    /// <summary>
    /// Memory layout of convolution weights during the run (restored to contiguous at its end).
    /// Auto uses channels-last for convolutional networks.
    /// </summary>
    public MemoryFormat MemoryFormat { get; init; } = MemoryFormat.Auto;
    /// <summary>
    /// Divergence guard: a step whose loss exceeds this multiple of max(the run's first loss,
    /// ln classes — the loss of a uniform guess) stops the run with
    /// <see cref="TrainerErrorCode.Diverged"/> before that step is applied. 0 turns it off.
    /// </summary>
    public double DivergenceFactor { get; init; }
    /// <summary>
    /// Keep what the frozen prefix of the backbone makes of each sample and train only the layers
    /// after it (<see cref="FrozenPrefixCache"/>), where the batches and the backbone allow it.
    /// </summary>
    public bool CacheFrozenPrefix { get; init; }
    /// <summary>The most memory the frozen-prefix cache may hold (fp16 values); past it the prefix is recomputed.</summary>
    public long FrozenPrefixCacheBytes { get; init; } = 1L << 30;

    /// <summary>Throws when settings are out of range.</summary>
    public void Validate()
    {
        if (Epochs < 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"Epochs must be ≥ 1, got {Epochs}.");
        if (WeightDecay < 0 || !double.IsFinite(WeightDecay) || Momentum is < 0 or >= 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, "Weight decay must be ≥ 0 and momentum in [0, 1).");
        if (EarlyStoppingPatience < 0 || GradientClipNorm < 0 || StepSize < 1 || !(StepGamma > 0))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, "Patience and clip norm must be ≥ 0, step size ≥ 1 and gamma > 0.");
        if (AccumulationSteps < 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"Accumulation steps must be ≥ 1, got {AccumulationSteps}.");
        if (DivergenceFactor != 0 && !(DivergenceFactor > 1 && double.IsFinite(DivergenceFactor)))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"The divergence factor must be 0 (off) or a finite number > 1, got {DivergenceFactor}.");
        if (FrozenPrefixCacheBytes < 0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"The frozen-prefix cache budget must be ≥ 0 bytes, got {FrozenPrefixCacheBytes}.");
        LearningRates.Validate();
    }
}

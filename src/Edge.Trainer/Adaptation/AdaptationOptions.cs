namespace EdgeTL.Trainer.Adaptation;

/// <summary>Settings of one domain-adaptation run on frozen backbone features.</summary>
public sealed record AdaptationOptions
{
    /// <summary>The transfer loss.</summary>
    public AdaptationMethod Method { get; init; } = AdaptationMethod.Dann;
    /// <summary>Optimizer steps (one source batch and one target batch each).</summary>
    public int Steps { get; init; } = 600;
    /// <summary>Source rows per step (as many target rows).</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>AdamW rate of bottleneck, head and domain classifier.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Width of the adaptable bottleneck between the frozen features and the head.</summary>
    public int BottleneckDim { get; init; } = 256;
    /// <summary>
    /// Weight of the transfer loss. Null: the seed's dynamic weight w = sigmoid(scale·‖μ_s − μ_t‖)
    /// per step (<see cref="DynamicTransferWeight"/>).
    /// </summary>
    public double? TransferWeight { get; init; }
    /// <summary>Scale of the dynamic weight.</summary>
    public double DynamicWeightScale { get; init; } = DynamicTransferWeight.DefaultScale;
    /// <summary>Largest GRL coefficient, reached by Ganin's schedule at the end of the run.</summary>
    public double MaxReversal { get; init; } = 1.0;
    /// <summary>Hidden width of the DANN domain classifier (the seed's 256).</summary>
    public int DomainHidden { get; init; } = 256;
    /// <summary>Hidden layers of the domain classifier (the seed's 1; TLlib uses 2 of 1,024).</summary>
    public int DomainLayers { get; init; } = 1;
    /// <summary>
    /// The negative-transfer guard keeps the adapted model only when its target score beats the
    /// source-only baseline's by at least this much (accuracy, or the unlabelled proxy).
    /// </summary>
    public double MinimumGain { get; init; }
    /// <summary>Seed of initialization and batch order.</summary>
    public int Seed { get; init; }
    /// <summary>
    /// Steps of the source-only baseline. Fixed apart from <see cref="Steps"/>, so that DANN,
    /// MMD and any other method run on the same data and seed are compared with one and the
    /// same baseline.
    /// </summary>
    public int BaselineSteps { get; init; } = 600;
    /// <summary>
    /// libtorch threads for the run (restored afterwards; the setting is process-wide). Null:
    /// libtorch's default, one per core. On a busy 2-core machine one thread made a 200-step run
    /// 20× faster than the default.
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>
    /// DANN as TLlib runs it: a domain classifier of two hidden layers of 1,024, a fixed trade-off
    /// of 1, and 1,500 steps. On the inverted Fashion-MNIST target this beat the seed's
    /// 256-unit classifier with the dynamic weight by 6 points (docs/architecture.md).
    /// </summary>
    public static AdaptationOptions DannRecipe { get; } = new()
    {
        Method = AdaptationMethod.Dann,
        DomainHidden = 1024,
        DomainLayers = 2,
        TransferWeight = 1.0,
        Steps = 1500,
    };

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (Steps < 1 || BaselineSteps < 1 || Threads is < 1 || BatchSize < 2 || BottleneckDim < 1 || DomainHidden < 1 || DomainLayers < 1 || !(LearningRate > 0) || !double.IsFinite(LearningRate)
            || TransferWeight is < 0 || (TransferWeight is { } w && !double.IsFinite(w)) || !(DynamicWeightScale >= 0) || !(MaxReversal >= 0) || !double.IsFinite(MinimumGain))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                "Adaptation needs ≥ 1 step (and baseline step), ≥ 1 thread when set, batches of ≥ 2, positive widths and rate, and non-negative weights.");
    }
}

namespace EdgeTL.Trainer.Experiments;

/// <summary>The input shift a <see cref="ShiftExperiment"/> applies to the target images.</summary>
public enum ImageShift
{
    /// <summary>Intensities inverted (255 − x).</summary>
    Inverted,
    /// <summary>Contrast halved around each image's mean, plus Gaussian noise of σ 0.25 of full scale.</summary>
    NoiseLowContrast,
}

/// <summary>
/// The protocol of issue-style recovery figures: new classes, shifted images, the labels a device
/// has (clean ones, a few shifted ones), a labelled shifted holdout for the guard, unlabelled shifted
/// images for the label-free methods, and a shifted and a clean test set that no step trains on.
/// </summary>
public sealed record ShiftExperimentOptions
{
    /// <summary>The shift.</summary>
    public ImageShift Shift { get; init; } = ImageShift.Inverted;
    /// <summary>Architecture and input size of the pretrained model.</summary>
    public PretrainOptions Pretrain { get; init; } = new() { Epochs = 3 };
    /// <summary>Classes of the target task (new to the pretrained model).</summary>
    public IReadOnlyList<int> TargetClasses { get; init; } = [5, 6, 7, 8, 9];
    /// <summary>Clean labelled images per class the device already has.</summary>
    public int CleanPerClass { get; init; } = 20;
    /// <summary>Labelled shifted images per class to train on.</summary>
    public int ShiftedPerClass { get; init; } = 10;
    /// <summary>Labelled shifted images per class in the guard's holdout (never trained on).</summary>
    public int HoldoutPerClass { get; init; } = 4;
    /// <summary>Unlabelled shifted images per class (label-free methods adapt on them).</summary>
    public int UnlabelledPerClass { get; init; } = 40;
    /// <summary>Test images per class, shifted and clean (from the test split).</summary>
    public int TestPerClass { get; init; } = 100;
    /// <summary>Seeds: the samples, heads and batch orders of each run.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [0, 1, 2];
    /// <summary>Head-only epochs on cached features.</summary>
    public int HeadEpochs { get; init; } = 300;
    /// <summary>Epochs of the surgical and progressive fine-tunes (a third head-only first; 30, the device's <c>finetune</c> default).</summary>
    public int FinetuneEpochs { get; init; } = 30;
    /// <summary>The head's rate in the surgical and progressive fine-tunes; their stages' rates follow the device's rule (<see cref="Training.BackboneModes.Rates"/>).</summary>
    public double FinetuneLearningRate { get; init; } = 1e-3;
    /// <summary>Steps of DANN and head-MMD.</summary>
    public int AdaptationSteps { get; init; } = 600;
    /// <summary>Steps of Tent.</summary>
    public int TentSteps { get; init; } = 20;
    /// <summary>Layer groups that <c>bn</c> and <c>tent</c> re-normalize; null: as the agent chooses them (<see cref="Adaptation.RenormalizationChoice"/>).</summary>
    public IReadOnlyList<string>? LabelFreeGroups { get; init; }
    /// <summary>The methods to run (all when null): source-only, head, mmd, dann, bn, bn-all, tent, surgical, bn+surgical, progressive.</summary>
    public IReadOnlyList<string>? Methods { get; init; }
}

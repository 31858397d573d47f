namespace EdgeTL.Trainer.Training;

/// <summary>How every group's rate changes over epochs (applied on top of its own base rate).</summary>
public enum LrScheduleKind
{
    /// <summary>Constant rate.</summary>
    Constant,
    /// <summary>Cosine annealing from the base rate to 0 over the run: ½(1 + cos(π·e/E)).</summary>
    Cosine,
    /// <summary>Multiply by <see cref="TrainerOptions.StepGamma"/> every <see cref="TrainerOptions.StepSize"/> epochs.</summary>
    Step,
}

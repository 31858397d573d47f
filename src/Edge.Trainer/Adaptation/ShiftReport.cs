namespace EdgeTL.Trainer.Adaptation;

/// <summary>The BatchNorm statistics mismatch of one layer group between source and target images.</summary>
/// <param name="Stage">The layer group (stem, stage1 … stage4 for the zoo's networks).</param>
/// <param name="Mismatch">Mean symmetric KL divergence per channel, averaged over the group's BatchNorm layers.</param>
/// <param name="Layers">BatchNorm layers in the group.</param>
public sealed record StageShift(string Stage, double Mismatch, int Layers);

/// <summary>What kind of shift a target is, read from where its mismatch peaks.</summary>
public enum ShiftLevel
{
    /// <summary>The mismatch peaks in the first two groups: the images themselves changed (lighting, inversion, noise). Re-normalize (bn), then tune the early stages (surgical).</summary>
    Input,
    /// <summary>The mismatch peaks in the last two groups: the content changed (new classes, new context). Train the head, then the late stages (progressive).</summary>
    Semantic,
}

/// <summary>Per-group mismatch, the group where it peaks, and the verdict.</summary>
public sealed record ShiftReport(IReadOnlyList<StageShift> Stages, string PeakStage, ShiftLevel Level)
{
    /// <summary>
    /// The rule: the peak in the first two groups is an input-level shift, in the last two a semantic
    /// one; a peak in between is decided by which end's mean mismatch is larger.
    /// </summary>
    public static ShiftReport From(IReadOnlyList<StageShift> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        if (stages.Count == 0)
            throw new ArgumentException("No stages to localize a shift in.", nameof(stages));
        int peak = Enumerable.Range(0, stages.Count).MaxBy(i => stages[i].Mismatch);
        int half = Math.Min(2, stages.Count / 2);
        ShiftLevel level;
        if (half == 0 || peak < half)
            level = ShiftLevel.Input;
        else if (peak >= stages.Count - half)
            level = ShiftLevel.Semantic;
        else
            level = stages.Take(half).Average(s => s.Mismatch) >= stages.TakeLast(half).Average(s => s.Mismatch) ? ShiftLevel.Input : ShiftLevel.Semantic;
        return new ShiftReport(stages, stages[peak].Stage, level);
    }

    /// <summary>
    /// The sets of groups label-free re-normalization (AdaBN, Tent) may touch, for <see cref="RenormalizationChoice"/>
    /// to choose from: for an input-level shift, every contiguous run of groups within the input-level
    /// region (the first two: stem, stem+stage1, stage1), even where the peak that made it input-level lies further in (a middle
    /// peak decided by the larger end); otherwise the first group alone. The last
    /// groups are never offered: their statistics also encode which classes the images show, and the
    /// serving head was trained on the source's (every group re-normalized lost 15 points on the noise
    /// shift, resnet18 at 32 px). Which run is best varies with the source model: on the noise shift,
    /// stage1 alone gained 7.5 points where the stem alone gained 0.3 (docs/adaptation.md).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> RenormalizationCandidates
    {
        get
        {
            var names = Stages.Select(s => s.Stage).ToList();
            if (Level != ShiftLevel.Input || names.Count < 2)
                return [[names[0]]];
            var region = names.Take(Math.Clamp(names.Count / 2, 1, 2)).ToList();
            var runs = new List<IReadOnlyList<string>>();
            for (int first = 0; first < region.Count; first++)
                for (int last = first; last < region.Count; last++)
                    runs.Add(region.GetRange(first, last - first + 1));
            return runs;
        }
    }

    /// <summary>"input-level shift: peaks in stem (stem 4.1, stage1 2.0, …)".</summary>
    public string Describe() =>
        $"{(Level == ShiftLevel.Input ? "input-level" : "semantic")} shift: peaks in {PeakStage} ({string.Join(", ", Stages.Select(s => $"{s.Stage} {s.Mismatch.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)}"))})";
}

namespace EdgeTL.Trainer.Adaptation;

/// <summary>The transfer loss added to the source classification loss.</summary>
public enum AdaptationMethod
{
    /// <summary>None: the source-only baseline.</summary>
    SourceOnly,
    /// <summary>DANN: a domain classifier behind a gradient reversal layer.</summary>
    Dann,
    /// <summary>Multi-kernel MMD between source and target features (DAN).</summary>
    Mmd,
}

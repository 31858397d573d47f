namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// The device's choice between a package's int8 backbone and its fp32 one, made when a model with an int8 backbone starts to serve
/// (deploy, rollback, restart, a device-made version). Int8 serves only where its golden features pass the health gate and the
/// accuracy it loses against fp32 is within the package's budget at the promotion guard's bound.
/// </summary>
/// <param name="Served"><c>int8</c> or <c>fp32</c>.</param>
/// <param name="Reason">Why, for people, with the figures.</param>
/// <param name="Test">
/// <c>device-holdout</c> (labelled holdout samples: the guard's discordant-pairs bound on int8 − fp32 accuracy) or
/// <c>agreement</c> (fewer labels: golden inputs and recent samples, fp32's predictions as the reference, so the drop is at most the
/// disagreement); null when nothing was measured.
/// </param>
/// <param name="N">Rows both backbones were scored on.</param>
/// <param name="MinRows">Fewest rows a decision needs (the agent's MinHoldout).</param>
/// <param name="Fp32Accuracy">fp32's accuracy on the rows (the agreement test's reference: 1).</param>
/// <param name="Int8Accuracy">int8's accuracy on the same rows (for the agreement test, its agreement with fp32).</param>
/// <param name="LowerBound">The bound on int8 − fp32 accuracy (a fraction) the decision was made on.</param>
/// <param name="BudgetPoints">The package's budget: the most accuracy, in points, int8 may lose.</param>
/// <param name="GoldenMaxAbsDifference">Largest |Δ| of the int8 golden features on this device, when they were run.</param>
public sealed record PrecisionChoice(string Served, string Reason, string? Test = null, int N = 0, int MinRows = 0, double? Fp32Accuracy = null,
    double? Int8Accuracy = null, double? LowerBound = null, double BudgetPoints = 0, double? GoldenMaxAbsDifference = null)
{
    /// <summary>The int8 backbone serves.</summary>
    public const string Quantized = "int8";

    /// <summary>The fp32 backbone serves.</summary>
    public const string FullPrecision = "fp32";
}

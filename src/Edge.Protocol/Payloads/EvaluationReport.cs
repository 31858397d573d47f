namespace EdgeTL.Protocol.Payloads;

/// <summary>The result of <c>evaluate</c> (and the <c>evaluation</c> metric): accuracy of what is served on <see cref="Samples"/> labelled samples.</summary>
public sealed record EvaluationReport(double Accuracy, int Samples, string? Domain);

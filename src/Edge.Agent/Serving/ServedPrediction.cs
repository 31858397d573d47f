namespace EdgeTL.Agent.Serving;

/// <summary>One prediction: the class, its label and confidence, all probabilities, and what made it.</summary>
public sealed record ServedPrediction(int ClassIndex, string Label, double Confidence, float[] Probabilities, string Model, long? HeadId);

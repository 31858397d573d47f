namespace EdgeTL.Protocol.Payloads;

/// <summary>The <c>prediction</c> metric: an ingested unlabelled sample and its prediction.</summary>
public sealed record PredictionEvent(long SampleId, string Domain, Prediction Prediction);

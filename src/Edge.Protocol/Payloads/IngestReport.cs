namespace EdgeTL.Protocol.Payloads;

/// <summary>The result of <c>ingest</c>: the stored sample's id, and its prediction when it was unlabelled and something can predict.</summary>
public sealed record IngestReport(long SampleId, Prediction? Prediction = null);

namespace EdgeTL.Cloud;

/// <summary>The machine-readable result of <c>meta-pretrain --json</c>.</summary>
internal sealed record MetaPretrainSummary(string Architecture, IReadOnlyList<int> Classes, string Algorithm, int Ways, int Shots, int InnerSteps,
    int Iterations, int Samples, int FeatureDim, double FirstQueryLoss, double LastQueryLoss, string Output);

namespace EdgeTL.Protocol.Payloads;

/// <summary>The result of an automatic cold start (and the <c>coldstart</c> metric): the first head of a new deployment.</summary>
/// <param name="HeadId">The head now serving.</param>
/// <param name="Method">How it was fitted (meta-learned initialization, or a plain head fit).</param>
/// <param name="Samples">Labelled samples used.</param>
/// <param name="ShotsPerClass">The cold-start threshold in force.</param>
/// <param name="TrainAccuracy">Accuracy on those samples (there is nothing held out at cold start).</param>
/// <param name="FitSeconds">Fit time.</param>
/// <param name="SecondsFromDeploymentToFirstModel">From the deployment to this head, when the deployment happened in this run of the agent.</param>
/// <param name="ComparedOn">Always 0: a first head is served without comparison (no head serves to be worse than).</param>
/// <param name="Guard">The guard's record of that: test <c>first-head</c>, comparedOn 0, and a reason saying it is not a promotion over a serving head.</param>
public sealed record ColdStartReport(long HeadId, string Method, int Samples, int ShotsPerClass, double TrainAccuracy, double FitSeconds, double? SecondsFromDeploymentToFirstModel,
    int ComparedOn, PromotionCheck Guard);

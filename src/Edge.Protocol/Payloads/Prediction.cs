namespace EdgeTL.Protocol.Payloads;

/// <summary>A prediction: the class name, its index among the device's classes, the confidence, and what made it.</summary>
/// <param name="Label">The class name.</param>
/// <param name="ClassIndex">Its index among the device's classes.</param>
/// <param name="Confidence">Softmax probability of the class.</param>
/// <param name="Model">The package version that extracted the features.</param>
/// <param name="HeadId">The device head that classified them (null: the package's own classifier).</param>
public sealed record Prediction(string Label, int ClassIndex, double Confidence, string Model, long? HeadId);

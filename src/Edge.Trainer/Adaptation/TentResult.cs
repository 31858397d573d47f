namespace EdgeTL.Trainer.Adaptation;

/// <summary>What a Tent run did: the mean prediction entropy on the target before and after (nats, eval mode, re-estimated statistics after), the affine parameters it tuned and the steps it took.</summary>
public sealed record TentResult(double EntropyBefore, double EntropyAfter, int TunedParameters, int Steps);

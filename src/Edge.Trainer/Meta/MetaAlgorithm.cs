namespace EdgeTL.Trainer.Meta;

/// <summary>Which meta-learning rule trains the head initialization.</summary>
public enum MetaAlgorithm
{
    /// <summary>
    /// MAML (Finn et al., ICML 2017): the inner loop adapts every head weight, and the outer
    /// gradient flows back through the inner steps (second order).
    /// </summary>
    Maml,
    /// <summary>First-order MAML: the outer gradient is the query gradient at the adapted weights (no second derivatives).</summary>
    FirstOrderMaml,
    /// <summary>
    /// ANIL (Raghu et al., "Rapid Learning or Feature Reuse?", ICLR 2020): the inner loop adapts only
    /// the output layer; the hidden layer is meta-learned as a shared representation. Cheapest on devices.
    /// </summary>
    Anil,
}

using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// The gradient reversal function of Ganin and Lempitsky, "Unsupervised Domain Adaptation by
/// Backpropagation" (ICML 2015): identity in the forward pass, gradient multiplied by −λ in the
/// backward pass. Arguments of <c>apply</c>: the input tensor [N, …] and λ (a double).
/// </summary>
internal sealed class GradientReversal : autograd.SingleTensorFunction<GradientReversal>
{
    public override string Name => "GradientReversal";

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.save_data("lambda", vars[1]);
        return ((Tensor)vars[0]).alias();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        double lambda = (double)ctx.get_data("lambda");
        // One gradient per argument of apply: the input's, and none for λ.
        return [grad_output * -lambda, null!];
    }
}

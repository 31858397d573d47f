using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training;

/// <summary>
/// Gives every 4-D parameter of a network channels-last strides for the length of a training
/// run, so convolutions and their gradients run in oneDNN's NHWC layout, and puts the ordinary
/// contiguous layout back on dispose. Shapes, values and parameter objects do not change; the
/// layout is a training-time detail that never reaches checkpoints or exported files.
/// </summary>
internal sealed class ChannelsLastScope : IDisposable
{
    private readonly nn.Module _network;

    private ChannelsLastScope(nn.Module network)
    {
        _network = network;
        Relayout(ChannelsLast);
    }

    /// <summary>
    /// Applies channels-last unless <paramref name="format"/> is channels-first, the network has
    /// no convolutions, or this libtorch computes channels-last convolutions wrongly
    /// (<see cref="ChannelsLastCheck"/>); then null, and the run is channels-first.
    /// </summary>
    public static ChannelsLastScope? Enter(nn.Module network, MemoryFormat format)
    {
        if (format == MemoryFormat.ChannelsFirst || !network.parameters().Any(p => p.dim() == 4) || !ChannelsLastCheck.Verdict.IsCorrect)
            return null;
        return new ChannelsLastScope(network);
    }

    public void Dispose() => Relayout(Contiguous);

    /// <summary>
    /// Puts the contiguous layout back until the returned scope is disposed, for work in the
    /// middle of a run that must not see channels-last strides (writing a checkpoint).
    /// </summary>
    public IDisposable Suspend()
    {
        Relayout(Contiguous);
        return new Resume(this);
    }

    private static Tensor Contiguous(Tensor p) => p.contiguous();

    private static Tensor ChannelsLast(Tensor p) => ChannelsLastCheck.ToChannelsLast(p);

    private void Relayout(Func<Tensor, Tensor> layout)
    {
        using var noGrad = no_grad();
        // The network's current parameters: a mixed-precision run replaces the objects when it changes dtypes.
        foreach (var p in _network.parameters().Where(p => p.dim() == 4))
        {
            using var scope = NewDisposeScope();
            p.set_(layout(p));
        }
    }

    private sealed class Resume(ChannelsLastScope scope) : IDisposable
    {
        public void Dispose() => scope.Relayout(ChannelsLast);
    }
}

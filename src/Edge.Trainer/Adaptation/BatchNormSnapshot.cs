using EdgeTL.Trainer.Interop.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// The running statistics and batch counters of a network's BatchNorm layers (TorchSharp <c>BatchNorm2d</c> and imported ONNX
/// BatchNormalization nodes), copied, so that a measurement that re-estimates them can put them back bit for bit. Disposing
/// restores them and frees the copies.
/// </summary>
internal sealed class BatchNormSnapshot : IDisposable
{
    private readonly List<(Tensor Buffer, Tensor Copy)> _saved;

    public BatchNormSnapshot(IEnumerable<nn.Module> norms) =>
        _saved = [.. norms.SelectMany(n => n.buffers(recurse: false)).Select(b => (b, b.clone()))];

    /// <summary>Whether <paramref name="module"/> is a BatchNorm layer, in either form.</summary>
    public static bool IsBatchNorm(nn.Module module) => module is BatchNorm2d || module is OnnxNodeModule { OpType: "BatchNormalization" };

    /// <summary>Every BatchNorm layer of <paramref name="network"/>.</summary>
    public static List<nn.Module> LayersOf(nn.Module network) => [.. network.modules().Where(IsBatchNorm)];

    /// <summary>Puts the saved values back.</summary>
    public void Restore()
    {
        using var noGrad = no_grad();
        foreach (var (buffer, copy) in _saved)
            buffer.copy_(copy);
    }

    public void Dispose()
    {
        Restore();
        foreach (var (_, copy) in _saved)
            copy.Dispose();
    }
}

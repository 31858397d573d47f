using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training.Precision;

/// <summary>
/// <see cref="PrecisionMode.Auto"/> on a CPU with native bf16: measures before it chooses. bf16 pays
/// where oneDNN's bf16 kernels (AMX) beat fp32 (resnet18 at 224: 2×) and loses elsewhere on the same
/// CPU (resnet18 at 64, MobileNet's depthwise convolutions: 0.5–0.9×), so a capability flag alone
/// picks wrong. The probe times what differs between the two per step on the first batch: forward and
/// backward, and in bf16 also the master weights pushed in and the gradients pulled out (the fp32
/// optimizer step is the same in both). One warm-up and <see cref="TimedSteps"/> timed steps each; the
/// fastest step of each counts (the least disturbed). bf16 is taken only when it is at least
/// <see cref="Margin"/> faster, and remembers the choice per network, trainable set and batch shape
/// for the life of the process. A network that fails in bf16 (an imported graph with an operator
/// that needs fp32) gets fp32. Nothing it runs is kept: parameters, gradients and BatchNorm
/// statistics are as before.
/// </summary>
internal static class PrecisionProbe
{
    /// <summary>Timed forward-and-backward passes per precision.</summary>
    public const int TimedSteps = 3;

    /// <summary>bf16 must take at most this fraction of fp32's time to be chosen.</summary>
    public const double Margin = 0.9;

    private static readonly ConcurrentDictionary<string, ScalarType> Chosen = new(StringComparer.Ordinal);

    /// <summary>The compute type for <paramref name="model"/> training on <paramref name="train"/> (the first batch of epoch 0 is measured).</summary>
    public static ScalarType Choose(ITrainable model, ITensorBatches train)
    {
        var first = train.Epoch(0).First();
        using var inputs = first.Inputs;
        using var labels = first.Labels;
        var trainable = model.Network.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        string key = $"{model.Network.GetType().FullName}|{model.Network.parameters().Sum(p => p.numel())}|{trainable}|{string.Join('x', inputs.shape)}";
        return Chosen.GetOrAdd(key, _ => Measure(model, inputs, labels));
    }

    private static ScalarType Measure(ITrainable model, Tensor inputs, Tensor labels)
    {
        var network = model.Network;
        var saved = network.buffers().Select(b => b.detach().clone()).ToList();
        try
        {
            double fp32 = Seconds(model, inputs, labels, null);
            double bf16;
            using (var masters = new MasterWeights(network, ScalarType.BFloat16))
            {
                try
                {
                    bf16 = Seconds(model, inputs, labels, masters);
                }
                catch (Exception e) when (e is ExternalException or InvalidOperationException or ArgumentException or NotSupportedException or EdgeTrainerException)
                {
                    // A network that cannot run in bf16 (an imported graph with an fp32-only operator, or fp32 constants
                    // such as a preprocessing graph's mean image that promote its activations back to fp32) trains in fp32.
                    bf16 = double.PositiveInfinity;
                }
                finally
                {
                    masters.Restore();
                }
            }
            return bf16 <= Margin * fp32 ? ScalarType.BFloat16 : ScalarType.Float32;
        }
        finally
        {
            using (no_grad())
            {
                foreach (var (buffer, value) in network.buffers().Zip(saved))
                    buffer.copy_(value);
            }
            foreach (var p in network.parameters())
                p.grad = null;
            foreach (var s in saved)
                s.Dispose();
        }
    }

    /// <summary>The fastest of <see cref="TimedSteps"/> steps (after a warm-up), in seconds.</summary>
    private static double Seconds(ITrainable model, Tensor inputs, Tensor labels, MasterWeights? masters)
    {
        model.SetTrainingMode(true);
        var trainable = model.Network.parameters().Where(p => p.requires_grad).ToArray();
        double fastest = double.PositiveInfinity;
        for (int i = 0; i <= TimedSteps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            using (NewDisposeScope())
            {
                masters?.Push(trainable);
                var x = masters is null ? inputs : inputs.to(masters.Compute);
                var logits = model.Network.forward(x).to(ScalarType.Float32);
                nn.functional.cross_entropy(logits, labels).backward();
                if (masters is not null)
                {
                    _ = masters.PullGradients(trainable, 1.0, accumulate: false);
                    masters.ZeroMasterGradients();
                }
                foreach (var p in model.Network.parameters())
                    p.grad = null;
            }
            if (i > 0)
                fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return fastest;
    }
}

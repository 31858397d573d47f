using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Interop.Onnx;
using Google.Protobuf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training;

/// <summary>
/// Re-estimates BatchNorm running statistics from data without touching any weight
/// (AdaBN): each BatchNorm layer ends with the exact average of its batch statistics over
/// the batches given. Used to give a randomly initialized network usable statistics, and to
/// re-centre a network on a new domain. Works on TorchSharp BatchNorm2d and on imported ONNX
/// BatchNormalization nodes.
/// </summary>
public static class BatchNormCalibration
{
    /// <summary>
    /// AdaBN in one call: imports the ONNX <paramref name="model"/>, re-estimates every BatchNorm's
    /// statistics on <paramref name="target"/> (unlabelled images of the new domain, prepared by
    /// <paramref name="pipeline"/> as the model expects), and returns the recalibrated model as ONNX,
    /// ready for ONNX Runtime. The images are shuffled into batches: a set ordered by class (as
    /// <see cref="LabeledImageSet.SamplePerClass"/> returns it) would give each batch one class, and
    /// the averaged batch variances would miss the variance between classes.
    /// </summary>
    /// <exception cref="EdgeTrainerException">An empty target set, or a model that cannot be imported.</exception>
    public static byte[] AdaptOnnx(byte[] model, string source, LabeledImageSet target, ImagePipeline pipeline, int batchSize = 50, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(pipeline);
        if (target.Count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "AdaBN needs target images; the set is empty.");
        using var network = OnnxImporter.Import(model, source);
        var batches = new ImageTensorBatches(new BatchLoader(target, pipeline, Math.Min(batchSize, target.Count), shuffle: true, augment: false, seed));
        Recalibrate(network, batches.Epoch(0).Select(b => b.Inputs));
        return network.ToModelProto().ToByteArray();
    }

    /// <summary>
    /// Runs <paramref name="batches"/> through <paramref name="network"/> and returns how many were used.
    /// With <paramref name="only"/>, only the BatchNorm layers among those modules (and their children)
    /// are re-estimated; every other one normalizes with its statistics as they are.
    /// </summary>
    public static int Recalibrate(nn.Module<Tensor, Tensor> network, IEnumerable<Tensor> batches, IEnumerable<nn.Module>? only = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(batches);
        var modes = network.modules().Prepend(network).Select(m => (Module: m, m.training)).ToArray();
        var chosen = (only?.SelectMany(m => m.modules().Prepend(m)) ?? network.modules()).Distinct().ToArray();
        var torchNorms = chosen.OfType<BatchNorm2d>().ToArray();
        var onnxNorms = chosen.OfType<OnnxNodeModule>().Where(m => m.OpType == "BatchNormalization").ToArray();
        var momenta = torchNorms.Select(b => b.momentum).ToArray();
        int count = 0;
        try
        {
            network.eval();
            using var noGrad = no_grad();
            foreach (var bn in torchNorms)
            {
                bn.reset_running_stats();
                bn.train();
            }
            foreach (var node in onnxNorms)
            {
                node.get_buffer("running_mean")!.zero_();
                node.get_buffer("running_var")!.fill_(1);
                node.train();
            }
            foreach (var batch in batches)
            {
                count++;
                double momentum = 1.0 / count;   // cumulative average: the k-th batch weighs 1/k
                foreach (var bn in torchNorms)
                    bn.momentum = momentum;
                foreach (var node in onnxNorms)
                    node.MomentumOverride = momentum;
                using var scope = NewDisposeScope();
                network.forward(batch);
            }
        }
        finally
        {
            for (int i = 0; i < torchNorms.Length; i++)
                torchNorms[i].momentum = momenta[i];
            foreach (var node in onnxNorms)
                node.MomentumOverride = null;
            foreach (var (module, training) in modes)
                module.train(training);
        }
        if (count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "BatchNorm recalibration needs at least one batch.");
        return count;
    }
}

using System.Diagnostics;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Data;

/// <summary>Runs a frozen backbone once over a dataset and keeps the features.</summary>
public static class FeatureExtraction
{
    /// <summary>
    /// Extracts [N, D] features in evaluation mode without gradients. The backbone's mode is
    /// restored afterwards.
    /// </summary>
    public static FeatureSet Extract(IBackbone backbone, ITensorBatches batches, int classCount)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.SampleCount == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "Nothing to extract features from.");
        var clock = Stopwatch.StartNew();
        bool wasTraining = backbone.Network.training;
        backbone.Network.eval();
        var features = new List<Tensor>();
        var labels = new List<Tensor>();
        try
        {
            using var noGrad = no_grad();
            foreach (var (inputs, batchLabels) in batches.Epoch(0))
            {
                using (inputs)
                {
                    Models.InputGuard.RequireImages(inputs, 3, backbone.MinInputSize);
                    features.Add(backbone.ForwardFeatures(inputs));
                }
                labels.Add(batchLabels);
            }
            var all = cat(features, 0);
            var allLabels = cat(labels, 0);
            return new FeatureSet(all, allLabels, classCount) { ExtractionSeconds = clock.Elapsed.TotalSeconds };
        }
        finally
        {
            foreach (var t in features.Concat(labels))
                t.Dispose();
            backbone.Network.train(wasTraining);
        }
    }

    /// <summary>
    /// Extracts [N, D] features of <paramref name="images"/> [N, C, H, W] in evaluation mode without gradients, in batches of
    /// <paramref name="batchSize"/>. Every module's mode is restored afterwards (a network may train some groups and not others).
    /// </summary>
    public static Tensor Extract(IBackbone backbone, Tensor images, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(images);
        var modes = backbone.Network.modules().Prepend(backbone.Network).Select(m => (Module: m, m.training)).ToList();
        var parts = new List<Tensor>();
        try
        {
            backbone.Network.eval();
            using var noGrad = no_grad();
            for (long start = 0; start < images.shape[0]; start += batchSize)
            {
                using var batch = images.narrow(0, start, Math.Min(batchSize, images.shape[0] - start));
                using var features = backbone.ForwardFeatures(batch);
                parts.Add(features.flatten(1));
            }
            return cat(parts, 0);
        }
        finally
        {
            foreach (var part in parts)
                part.Dispose();
            foreach (var (module, training) in modes)
                module.train(training);
        }
    }

    /// <summary>
    /// Extracts [N, D] features with ONNX Runtime, the fast path for a frozen backbone (about
    /// twice libtorch's speed on CPU). The model's first output is flattened per sample.
    /// </summary>
    public static FeatureSet Extract(OnnxModel backbone, ITensorBatches batches, int classCount)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.SampleCount == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "Nothing to extract features from.");
        var clock = Stopwatch.StartNew();
        var features = new List<Tensor>();
        var labels = new List<Tensor>();
        try
        {
            foreach (var (inputs, batchLabels) in batches.Epoch(0))
            {
                using (inputs)
                {
                    using var contiguous = inputs.contiguous();
                    var (values, _) = backbone.Run(contiguous.data<float>().ToArray(), [.. inputs.shape.Select(d => (int)d)]);
                    features.Add(tensor(values).reshape(inputs.shape[0], -1));
                }
                labels.Add(batchLabels);
            }
            return new FeatureSet(cat(features, 0), cat(labels, 0), classCount) { ExtractionSeconds = clock.Elapsed.TotalSeconds };
        }
        finally
        {
            foreach (var t in features.Concat(labels))
                t.Dispose();
        }
    }
}

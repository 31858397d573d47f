using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using Google.Protobuf;
using Xunit.Abstractions;

namespace EdgeTL.Trainer.Tests.Training;

/// <summary>AdaBN as one call on real images: an ONNX model in, a recalibrated ONNX model out.</summary>
public sealed class AdaBnTests(ITestOutputHelper output)
{
    [Fact]
    public void AdaptOnnx_recalibrates_on_the_target_and_mixes_classes_where_class_ordered_batches_would_not()
    {
        using var model = TransferModel.Create("resnet18", 5, seed: 4);
        byte[] original = EdgeTL.Trainer.Interop.Onnx.OnnxExporter.Export(model).ToByteArray();
        var pipeline = TestData.Pipeline();
        var target = TestData.Train.SamplePerClass(20, seed: 5).Inverted();   // ordered by class, as SamplePerClass returns it
        var reversed = target.Subset([.. Enumerable.Range(0, target.Count).Reverse()]);

        byte[] adapted = BatchNormCalibration.AdaptOnnx(original, "resnet18", target, pipeline);
        byte[] adaptedReversed = BatchNormCalibration.AdaptOnnx(original, "resnet18", reversed, pipeline);

        var probe = TestData.Test.SamplePerClass(4, seed: 6).Inverted();
        var inputs = ImageBatch(probe, pipeline);
        using var before = OnnxModel.Load(original);
        using var after = OnnxModel.Load(adapted);
        using var afterReversed = OnnxModel.Load(adaptedReversed);
        var shape = new[] { probe.Count, 3, 32, 32 };
        float[] y0 = before.Run(inputs, shape).Values, y1 = after.Run(inputs, shape).Values, y2 = afterReversed.Run(inputs, shape).Values;
        double scale = y1.Max(MathF.Abs);
        double changed = y0.Zip(y1).Max(p => Math.Abs(p.First - p.Second)) / scale;
        double order = y1.Zip(y2).Max(p => Math.Abs(p.First - p.Second)) / scale;

        // What the four manual steps gave: batches in the set's class order, one class per batch.
        byte[] sorted;
        using (var network = EdgeTL.Trainer.Interop.Onnx.OnnxImporter.Import(original, "resnet18"))
        {
            BatchNormCalibration.Recalibrate(network, Data.ImageTensorBatches.ForEvaluation(target, pipeline, 40).Epoch(0).Select(b => b.Inputs));
            sorted = network.ToModelProto().ToByteArray();
        }
        using var afterSorted = OnnxModel.Load(sorted);
        float[] y3 = afterSorted.Run(inputs, shape).Values;
        double classOrdered = y1.Zip(y3).Max(p => Math.Abs(p.First - p.Second)) / scale;
        output.WriteLine($"AdaBN on {target.Count} inverted images: outputs moved by {changed:P1} of their scale; the set in reverse order: within {order:P2}; one class per batch: {classOrdered:P2} away");
        Assert.True(changed > 0.05, $"recalibration changed the outputs by only {changed:P2}");
        Assert.True(order < classOrdered, $"the order of the set moved the outputs by {order:P2}, class-ordered batches by {classOrdered:P2}");
        Assert.Equal(TrainerErrorCode.EmptyDataset,
            Assert.Throws<EdgeTrainerException>(() => BatchNormCalibration.AdaptOnnx(original, "resnet18", target.Subset([]), pipeline)).Code);
    }

    private static float[] ImageBatch(EdgeTL.Runtime.Data.LabeledImageSet set, EdgeTL.Runtime.Preprocessing.ImagePipeline pipeline)
    {
        var batch = Data.ImageTensorBatches.ForEvaluation(set, pipeline, set.Count).Epoch(0).Single();
        return batch.Inputs.contiguous().data<float>().ToArray();
    }
}

using EdgeTL.Runtime.Data;
using Google.Protobuf;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Interop.Onnx;

namespace EdgeTL.Trainer.Tests.Interop;

/// <summary>Frozen ImageNet ResNet-18 features (ML.NET's ONNX file through ONNX Runtime), one session for the whole run.</summary>
internal static class ImageNetFeatures
{
    private static readonly Lazy<OnnxModel> Model = new(() =>
    {
        using var backbone = OnnxImporter.ImportBackbone(ImageNetOnnx.Chained, "ML.NET ResNet18");
        return OnnxModel.Load(backbone.ToModelProto().ToByteArray(), ImageNetOnnx.SharedMachine);
    });

    private static readonly Lock Gate = new();

    /// <summary>512-d features of every image of <paramref name="set"/>, with its labels.</summary>
    public static FeatureSet Extract(LabeledImageSet set)
    {
        lock (Gate)
            return FeatureExtraction.Extract(Model.Value, ImageTensorBatches.ForEvaluation(set, ImageNetOnnx.Pipeline, batchSize: 50), set.ClassCount);
    }

    /// <summary>The same images with inverted intensities (255 − value): light garments on dark become dark on light.</summary>
    public static LabeledImageSet Inverted(LabeledImageSet set) => set.Inverted();
}

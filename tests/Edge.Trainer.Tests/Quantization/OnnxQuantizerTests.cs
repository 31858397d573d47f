using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Interop.Onnx.Quantization;
using Google.Protobuf;
using Onnx;
using Xunit.Abstractions;

namespace EdgeTL.Trainer.Tests.Quantization;

/// <summary>Calibrated int8 QDQ quantization of an exported backbone, checked against its fp32 features on other real images.</summary>
public sealed class OnnxQuantizerTests(ITestOutputHelper output)
{
    private static readonly ImagePipeline Pipeline = new(new ImagePipelineOptions { InputSize = 64 });

    [Theory]
    [InlineData(CalibrationMethod.MinMax)]
    [InlineData(CalibrationMethod.Percentile)]
    [InlineData(CalibrationMethod.Entropy)]
    public void A_quantized_resnet18_has_int8_weights_and_qdq_activations_and_its_features_follow_fp32_on_held_out_images(CalibrationMethod method)
    {
        byte[] fp32 = Export("resnet18");
        var images = FashionMnist.LoadTest().SamplePerClass(8, seed: 4);
        var calibration = Batches(images, 0, 40);
        var quantized = OnnxQuantizer.Quantize(fp32, calibration, new QuantizationOptions { Method = method });

        var graph = ModelProto.Parser.ParseFrom(quantized.Model).Graph;
        Assert.Equal(20, quantized.QuantizedNodes);   // resnet18: 20 convolutions (BatchNorm folded into them)
        Assert.DoesNotContain(graph.Node, n => n.OpType == "BatchNormalization");
        Assert.All(graph.Node.Where(n => n.OpType == "Conv"), conv => Assert.EndsWith("_dequantized", conv.Input[0], StringComparison.Ordinal));
        Assert.All(graph.Node.Where(n => n.OpType == "Conv"), conv => Assert.EndsWith("_dequantized", conv.Input[1], StringComparison.Ordinal));
        Assert.Contains(graph.Initializer, t => t.DataType == (int)TensorProto.Types.DataType.Int8 && t.Dims.Count == 4);

        using var reference = OnnxModel.Load(fp32);
        using var int8 = OnnxModel.Load(quantized.Model);
        var (values, shape) = Batches(images, 40, 80).Single();
        var (a, featureShape) = reference.Run(values, shape);
        var (b, int8Shape) = int8.Run(values, shape);
        Assert.Equal(featureShape, int8Shape);
        double cosine = MeanCosine(a, b, featureShape[1]);
        output.WriteLine($"{method}: {quantized.QuantizedActivations.Count} activations, mean cosine fp32/int8 on 40 held-out images {cosine:F4}");
        Assert.True(cosine > 0.98, $"{method}: int8 features drift from fp32 (mean cosine {cosine:F4})");
    }

    /// <summary>
    /// ML.NET's ImageNet ResNet-18 (a CNTK export at opset 8, with its preprocessing graph's Split) quantized from 16 Fashion-MNIST
    /// images at 224 px: the real photos, never calibrated on, keep their features, and each photo's int8 features retrieve
    /// its own fp32 features among all of them.
    /// </summary>
    [Theory]
    [InlineData(CalibrationMethod.MinMax)]
    [InlineData(CalibrationMethod.Percentile)]
    [InlineData(CalibrationMethod.Entropy)]
    public void ML_NET_resnet18_quantizes_and_the_real_photos_retrieve_themselves(CalibrationMethod method)
    {
        var pipeline = new ImagePipeline(MlNetResNet18.PipelineOptions);
        var set = FashionMnist.LoadTest().SamplePerClass(2, seed: 5);
        var calibration = new float[16 * pipeline.SampleLength];
        for (int i = 0; i < 16; i++)
            pipeline.Process(set, i, calibration.AsSpan(i * pipeline.SampleLength, pipeline.SampleLength), null);
        byte[] fp32 = Interop.ImageNetOnnx.Chained;
        var quantized = OnnxQuantizer.Quantize(fp32, [(calibration, [16, 3, 224, 224])], new QuantizationOptions { Method = method });
        Assert.Equal(13, ModelProto.Parser.ParseFrom(quantized.Model).OpsetImport.Single(o => o.Domain.Length == 0).Version);

        using var reference = OnnxModel.Load(fp32, Interop.ImageNetOnnx.SharedMachine);
        using var int8 = OnnxModel.Load(quantized.Model, Interop.ImageNetOnnx.SharedMachine);
        var photos = Interop.ImageNetOnnx.Photos().ToList();
        var a = photos.Select(p => reference.Run(p.Image.data<float>().ToArray(), [1, 3, 224, 224]).Values).ToList();
        var b = photos.Select(p => int8.Run(p.Image.data<float>().ToArray(), [1, 3, 224, 224]).Values).ToList();
        for (int i = 0; i < photos.Count; i++)
        {
            double own = MeanCosine(a[i], b[i], a[i].Length);
            output.WriteLine($"{method} {photos[i].Name}: cosine fp32/int8 {own:F4}");
            Assert.True(own > 0.95, $"{photos[i].Name}: int8 features drift from fp32 (cosine {own:F4})");
            int nearest = Enumerable.Range(0, photos.Count).MaxBy(j => MeanCosine(b[i], a[j], a[j].Length));
            Assert.Equal(photos[i].Name, photos[nearest].Name);
        }
        foreach (var (_, image) in photos)
            image.Dispose();
    }

    [Fact]
    public void Percentile_and_entropy_clip_what_min_max_keeps()
    {
        var range = new ActivationRange(0, 100, 2048);
        var values = Enumerable.Range(0, 100_000).Select(i => (float)(i % 1000) / 1000 * 5).Append(100f).ToArray();   // mass in [0, 5], one outlier at 100
        range.Add(values);
        Assert.Equal((0.0, 100.0), range.Range(CalibrationMethod.MinMax));
        double percentile = range.Range(CalibrationMethod.Percentile, 99.9).High, entropy = range.Range(CalibrationMethod.Entropy).High;
        Assert.InRange(percentile, 4.5, 6);
        Assert.InRange(entropy, 4, 15);
    }

    [Fact]
    public void Entropy_never_clips_more_than_a_thousandth_of_the_values_nor_a_clip_output_below_its_bound()
    {
        // Dense mass near 0 and a heavy tail: 2 % of the values spread up to 50. The divergence alone would clip inside the tail.
        var range = new ActivationRange(0, 50, 2048);
        var random = new Random(1);
        range.Add([.. Enumerable.Range(0, 100_000).Select(i => i % 50 == 0 ? (float)(random.NextDouble() * 50) : (float)(random.NextDouble() * 0.5))]);
        double keep = range.Range(CalibrationMethod.Percentile, ActivationRange.EntropyKeeps).High;
        Assert.True(range.Range(CalibrationMethod.Entropy).High >= keep, $"entropy clipped below the {ActivationRange.EntropyKeeps} % magnitude {keep}");

        // mobilenet_v2's ReLU6 outputs (Clip) keep the range min/max gives them.
        byte[] fp32 = Export("mobilenet_v2");
        var batches = Batches(FashionMnist.LoadTest().SamplePerClass(1, seed: 1), 0, 8);
        var entropy = OnnxQuantizer.Quantize(fp32, batches, new QuantizationOptions { Method = CalibrationMethod.Entropy }).QuantizedActivations;
        var minMax = OnnxQuantizer.Quantize(fp32, batches, new QuantizationOptions { Method = CalibrationMethod.MinMax }).QuantizedActivations;
        var clipOutputs = entropy.Keys.Where(k => k.EndsWith("Clip:0", StringComparison.Ordinal) || k.Contains("Clip", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(clipOutputs);
        Assert.All(clipOutputs, k => Assert.Equal(minMax[k], entropy[k]));
    }

    [Fact]
    public void No_calibration_a_wrong_shape_a_non_finite_value_and_a_weight_that_is_not_a_constant_are_typed_errors()
    {
        byte[] fp32 = Export("resnet18");
        Assert.Equal(TrainerErrorCode.EmptyDataset, Assert.Throws<EdgeTrainerException>(() => OnnxQuantizer.Quantize(fp32, [])).Code);
        var wrong = Assert.Throws<EdgeTrainerException>(() => OnnxQuantizer.Quantize(fp32, [(new float[3 * 64 * 64], [1, 3, 32, 32])]));
        Assert.Equal(TrainerErrorCode.InvalidInputShape, wrong.Code);
        var corrupt = Batches(FashionMnist.LoadTest().SamplePerClass(1, seed: 1), 0, 2);
        corrupt[0].Values[5] = float.NaN;
        var nan = Assert.Throws<EdgeTrainerException>(() => OnnxQuantizer.Quantize(fp32, corrupt));
        Assert.Equal(TrainerErrorCode.NonFiniteInput, nan.Code);
        Assert.Contains("batch 0", nan.Message, StringComparison.Ordinal);

        // A convolution whose weight is a second graph input: nothing to quantize ahead of time.
        var model = ModelProto.Parser.ParseFrom(fp32);
        var conv = model.Graph.Node.First(n => n.OpType == "Conv");
        string weight = conv.Input[1];
        var initializer = model.Graph.Initializer.Single(t => t.Name == weight);
        model.Graph.Initializer.Remove(initializer);
        model.Graph.Input.Add(new ValueInfoProto { Name = weight, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } });
        foreach (var d in initializer.Dims)
            model.Graph.Input[^1].Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        var error = Assert.Throws<EdgeTrainerException>(() => OnnxQuantizer.Quantize(model.ToByteArray(), Batches(FashionMnist.LoadTest().SamplePerClass(1, seed: 1), 0, 4)));
        Assert.Equal(TrainerErrorCode.UnsupportedOnnxOperator, error.Code);
        Assert.Contains(weight, error.Message, StringComparison.Ordinal);
    }

    private static byte[] Export(string architecture)
    {
        var backbone = BackboneZoo.Create(architecture);
        try
        {
            TorchSharp.torch.manual_seed(3);
            return OnnxExporter.Export(backbone.Network).ToByteArray();
        }
        finally
        {
            (backbone as IDisposable)?.Dispose();
        }
    }

    /// <summary>Images [from, to) of <paramref name="set"/>, preprocessed, as one batch.</summary>
    private static List<(float[] Values, int[] Shape)> Batches(LabeledImageSet set, int from, int to)
    {
        var values = new float[(to - from) * Pipeline.SampleLength];
        for (int i = from; i < to; i++)
            Pipeline.Process(set, i, values.AsSpan((i - from) * Pipeline.SampleLength, Pipeline.SampleLength), null);
        return [(values, [to - from, 3, 64, 64])];
    }

    private static double MeanCosine(float[] a, float[] b, int dim)
    {
        double total = 0;
        int n = a.Length / dim;
        for (int r = 0; r < n; r++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int k = r * dim; k < (r + 1) * dim; k++)
            {
                dot += a[k] * b[k];
                na += a[k] * a[k];
                nb += b[k] * b[k];
            }
            total += dot / Math.Sqrt(na * nb + 1e-12);
        }
        return total / n;
    }
}

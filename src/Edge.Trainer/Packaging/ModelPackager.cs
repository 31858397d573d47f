using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Packaging;

/// <summary>
/// Builds a signed model package from a trained <see cref="TransferModel"/>: backbone ONNX
/// (fp32 and fp16), head ONNX, trainer weights (safetensors), golden inputs with the features
/// ONNX Runtime computes for them, and the manifest with the preprocessing, labels and layer
/// groups. Every ONNX file is checked in ONNX Runtime against the model before it is packed.
/// </summary>
public static class ModelPackager
{
    /// <summary>Writes the package to <paramref name="output"/> and returns its manifest.</summary>
    public static ModelManifest Write(TransferModel model, PackageRequest request, SigningKey key, string output)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(key);
        if (request.Labels.Count != model.ClassCount)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"{request.Labels.Count} labels for a model of {model.ClassCount} classes.");
        string work = Directory.CreateTempSubdirectory("edgetl-package-").FullName;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            var pipeline = new ImagePipeline(request.Input);
            var backbone = model.Backbone.Network;
            var head = new HeadModel(model.Head, model.Backbone.FeatureDim, model.ClassCount);
            var files = new List<(string, string, string)>();

            string backbonePath = Path.Combine(work, "backbone.onnx");
            byte[] backboneBytes = Export(backbone, new OnnxExportOptions { TraceInputSize = Math.Max(request.Input.InputSize, BackboneZoo.MinInputSize) }, backbonePath);
            files.Add(("backbone.onnx", PackageFileRoles.Backbone, backbonePath));
            if (request.IncludeFloat16)
            {
                string fp16 = Path.Combine(work, "backbone.fp16.onnx");
                Export(backbone, new OnnxExportOptions { Float16 = true, TraceInputSize = Math.Max(request.Input.InputSize, BackboneZoo.MinInputSize) }, fp16);
                files.Add(("backbone.fp16.onnx", PackageFileRoles.BackboneFloat16, fp16));
            }
            string headPath = Path.Combine(work, "head.onnx");
            Export(head, new OnnxExportOptions(), headPath, model.Backbone.FeatureDim);
            files.Add(("head.onnx", PackageFileRoles.Head, headPath));
            string weightsPath = Path.Combine(work, "weights.safetensors");
            SafeTensors.Save(model.state_dict(), weightsPath, new Dictionary<string, string> { ["architecture"] = model.Backbone.Architecture, ["classes"] = $"{model.ClassCount}" });
            files.Add(("weights.safetensors", PackageFileRoles.Weights, weightsPath));
            if (request.HeadInitialization is { } init)
            {
                if (init.FeatureDim != model.Backbone.FeatureDim)
                    throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                        $"The head initialization expects {init.FeatureDim}-wide features; the backbone gives {model.Backbone.FeatureDim}.");
                string initPath = Path.Combine(work, "head.init.safetensors");
                init.Save(initPath);
                files.Add(("head.init.safetensors", PackageFileRoles.HeadInitialization, initPath));
            }

            // Golden inputs: preprocessed images, and the features ONNX Runtime computes for them.
            int count = Math.Min(request.GoldenCount, request.GoldenImages.Count);
            var inputs = new float[count * pipeline.SampleLength];
            for (int i = 0; i < count; i++)
                pipeline.Process(request.GoldenImages, i, inputs.AsSpan(i * pipeline.SampleLength, pipeline.SampleLength), null);
            using var session = OnnxModel.Load(backboneBytes);
            var (features, _) = session.Run(inputs, [count, request.Input.Channels, request.Input.InputSize, request.Input.InputSize]);
            files.Add(("golden/inputs.f32", PackageFileRoles.GoldenInputs, WriteFloats(Path.Combine(work, "golden-inputs.f32"), inputs)));
            files.Add(("golden/features.f32", PackageFileRoles.GoldenOutputs, WriteFloats(Path.Combine(work, "golden-features.f32"), features)));

            var manifest = new ModelManifest
            {
                Name = request.Name,
                Architecture = model.Backbone.Architecture,
                Version = request.Version,
                Counter = request.Counter,
                Input = new InputSpec
                {
                    Size = request.Input.InputSize,
                    Channels = request.Input.Channels,
                    ChannelOrder = request.Input.Bgr ? "BGR" : "RGB",
                    Mean = request.Input.Normalization.Mean,
                    Std = request.Input.Normalization.Std,
                    CenterCropFraction = request.Input.CenterCropFraction,
                },
                FeatureDim = model.Backbone.FeatureDim,
                Labels = request.Labels,
                LayerGroups = [.. model.Groups.Select(g => new LayerGroupInfo(g.Name, g.ParameterCount))],
                Files = [],
                Provenance = request.Provenance,
                Metrics = request.Metrics,
                Golden = new GoldenSet(count, 1e-4),
            };
            return ModelPackage.Write(output, manifest, files, key, request.AsDirectory);
        }
        finally
        {
            model.train(wasTraining);
            Directory.Delete(work, recursive: true);
        }
    }

    private static byte[] Export(nn.Module<Tensor, Tensor> module, OnnxExportOptions options, string path, int? featureWidth = null)
    {
        byte[] bytes = OnnxExporter.Export(module, options).ToByteArray();
        var probe = featureWidth is int width
            ? randn(2, width, generator: new Generator(3))
            : randn(2, 3, options.TraceInputSize, options.TraceInputSize, generator: new Generator(3));
        var (diff, scale) = OnnxValidation.Compare(module, bytes, probe);
        double bound = (options.Float16 ? 1e-2 : 1e-4) * Math.Max(1, scale);
        if (diff > bound)
            throw new EdgeTrainerException(TrainerErrorCode.UnsupportedExport, $"{Path.GetFileName(path)}: ONNX Runtime differs from TorchSharp by {diff:E2} (> {bound:E2}); not packaged.");
        File.WriteAllBytes(path, bytes);
        return bytes;
    }

    private static string WriteFloats(string path, float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}

// A project outside EdgeTL's repository, on the EdgeTL NuGet packages: ML.NET's ImageNet ResNet-18
// through EdgeTL.Trainer's public entry point, features of photos from ONNX Runtime and from the
// imported TorchSharp module (they agree), and a seed head trained on those features.
//
//   dotnet new console && dotnet add package EdgeTL.Trainer && dotnet add package EdgeTL.Protocol
//   (and, in the .csproj: <PackageDownload Include="Microsoft.ML.DnnImageFeaturizer.ResNet18" Version="[0.23.1]" />)
//   dotnet run -- path/to/folder/of/jpegs
using EdgeTL.Protocol.Commands;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

string[] photos = [.. Directory.GetFiles(args[0], "*.jpg").Order(StringComparer.Ordinal)];
var pipeline = new ImagePipeline(MlNetResNet18.PipelineOptions);   // 224 px, raw 0–255 pixels: what this model takes

// Frozen features with ONNX Runtime.
using var onnx = MlNetResNet18.LoadForInference();
float[] features = new FeatureExtractor(onnx, pipeline).ExtractEncoded([.. photos.Select(File.ReadAllBytes)]);
Console.WriteLine($"features: {photos.Length} photos × {MlNetResNet18.FeatureDim}");

// The same photos through the backbone imported into TorchSharp (what fine-tuning trains).
using var backbone = MlNetResNet18.ImportBackbone();
backbone.eval();
var decoder = new ImageDecoder();
var pixels = new float[photos.Length * pipeline.SampleLength];
for (int i = 0; i < photos.Length; i++)
{
    var (rgb, height, width) = decoder.Decode(File.ReadAllBytes(photos[i]));
    pipeline.Process(rgb.Span, height, width, 3, pixels.AsSpan(i * pipeline.SampleLength, pipeline.SampleLength), null);
}
using (no_grad())
using (var x = tensor(pixels).reshape(photos.Length, 3, MlNetResNet18.InputSize, MlNetResNet18.InputSize))
using (var fromTorch = backbone.forward(x).reshape(photos.Length, -1))
using (var fromOnnx = tensor(features).reshape(photos.Length, -1))
    Console.WriteLine($"TorchSharp against ONNX Runtime: max |Δ| {(fromTorch - fromOnnx).abs().max().item<float>():G3}");

// A seed head on the features, each photo its own class.
using var set = new FeatureSet(tensor(features).reshape(photos.Length, MlNetResNet18.FeatureDim), arange(photos.Length, dtype: ScalarType.Int64), photos.Length);
using var head = HeadModel.Create(MlNetResNet18.FeatureDim, photos.Length);
var run = new TrainingLoop(new TrainerOptions { Epochs = 40, Seed = 1 }).Fit(head, set.Batches(photos.Length, shuffle: true, seed: 1));
Console.WriteLine($"head: train loss {run.Epochs[0].TrainLoss:F3} → {run.Epochs[^1].TrainLoss:F3} in {run.Epochs.Count} epochs");
Console.WriteLine($"ready to answer '{CommandNames.Predict}' commands");

using System.Reflection;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Interop.Onnx;
using SkiaSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

/// <summary>
/// The real third-party file: ML.NET's ImageNet-pretrained ResNet-18 backbone (exported by
/// CNTK, opset 8, asymmetric pads, fixed 224×224) with its preprocessing graph, and real photos.
/// </summary>
internal static class ImageNetOnnx
{
    /// <summary>
    /// Sessions of the big feature extractions: test projects run side by side on 2 cores, where
    /// spinning ONNX Runtime threads hold the cores that libtorch and the other tests need.
    /// </summary>
    public static EdgeTL.Runtime.Onnx.OnnxModelOptions SharedMachine { get; } = new() { AllowSpinning = false };

    private static readonly Lazy<byte[]> LazyChained = new(() => MlNetResNet18.ChainedOnnx(ModelsDirectory));

    public static string ModelsDirectory { get; } = typeof(ImageNetOnnx).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "DnnImageModels").Value!;

    public static string BackbonePath => MlNetResNet18.BackbonePath(ModelsDirectory);

    public static string PreprocessPath => MlNetResNet18.PreprocessPath(ModelsDirectory);

    /// <summary>Preprocessing (RGB→BGR, mean image) chained in front of the backbone: RGB pixels 0–255 in.</summary>
    public static byte[] Chained => LazyChained.Value;

    /// <summary>The model wants raw 0–255 pixels; its own graph subtracts the mean image.</summary>
    public static ImagePipeline Pipeline { get; } = new(MlNetResNet18.PipelineOptions);

    /// <summary>The committed photos (data/photos), each as a [1, 3, 224, 224] tensor of 0–255 RGB.</summary>
    public static IEnumerable<(string Name, Tensor Image)> Photos()
    {
        string dir = Path.Combine(PeerFixtures.RepoRoot, "data", "photos");
        foreach (var path in Directory.GetFiles(dir, "*.jpg").Order(StringComparer.Ordinal))
        {
            using var bitmap = SKBitmap.Decode(path) ?? throw new InvalidOperationException("cannot decode " + path);
            var hwc = new byte[bitmap.Width * bitmap.Height * 3];
            for (int y = 0, i = 0; y < bitmap.Height; y++)
            {
                for (int x = 0; x < bitmap.Width; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    hwc[i++] = c.Red;
                    hwc[i++] = c.Green;
                    hwc[i++] = c.Blue;
                }
            }
            var chw = new float[Pipeline.SampleLength];
            Pipeline.Process(hwc, bitmap.Height, bitmap.Width, 3, chw, null);
            yield return (Path.GetFileNameWithoutExtension(path), tensor(chw).reshape(1, 3, 224, 224));
        }
    }
}

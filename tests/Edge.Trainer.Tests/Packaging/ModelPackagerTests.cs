using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Packaging;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Packaging;

public sealed class ModelPackagerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-packager-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Trainer to device: a transfer model is packaged and signed, installed by the store,
    /// passes its golden health check on the device's sessions, and predicts what the model
    /// predicts in TorchSharp, on real images.
    /// </summary>
    [Fact]
    public void A_packaged_model_installs_passes_its_health_check_and_predicts_like_the_trained_model()
    {
        using var scope = NewDisposeScope();
        var model = TransferModel.Create("resnet18", classes: 10, seed: 4);
        Interop.OnnxTestModels.PerturbBatchNorm(model, seed: 2);
        var images = TestData.Test.SamplePerClass(2, seed: 1);
        using var key = SigningKey.Create();
        string package = Path.Combine(_dir, "model.tar");
        var manifest = ModelPackager.Write(model, new PackageRequest
        {
            Name = "fmnist-resnet18",
            Version = "0.1.0",
            Counter = 1,
            Labels = TestData.Test.ClassNames,
            Input = TestData.Pipeline(32).Options,
            GoldenImages = images,
            Provenance = new Provenance { Tool = "tests", Dataset = "fashion-mnist" },
        }, key, package);
        Assert.Equal(["backbone", "backbone-fp16", "head", "weights", "golden-inputs", "golden-outputs"], manifest.Files.Select(f => f.Role));
        Assert.Equal(["stem", "stage1", "stage2", "stage3", "stage4", "head"], manifest.LayerGroups.Select(g => g.Name));

        using var trusted = new TrustedKeys([SigningKey.FromPem(key.PublicPem())]);
        var store = new ModelStore(Path.Combine(_dir, "store"), trusted);
        var installed = store.Install(package);
        using var served = EdgeTL.Runtime.Features.ServedModel.Open(installed, new SessionOptionsSpec { Providers = [ExecutionProvider.Cuda, ExecutionProvider.Cpu] });
        var health = served.CheckHealth();
        Assert.True(health.Passed, $"golden max |Δ| {health.MaxAbsDifference:E2} > {health.Tolerance:E2}");
        Assert.Equal(ExecutionProvider.Cpu, served.Backbone.Provider);

        var predictions = served.Predictor!.FromFeatures(served.Features.Extract(images), images.Count);
        model.eval();
        Tensor expected;
        using (no_grad())
            expected = nn.functional.softmax(model.forward(ImageTensorBatches.ForEvaluation(images, TestData.Pipeline(32)).Epoch(0).First().Inputs), 1);
        for (int i = 0; i < images.Count; i++)
        {
            Assert.Equal(expected[i].argmax().item<long>(), predictions[i].ClassIndex);
            for (int c = 0; c < 10; c++)
                Assert.Equal(expected[i, c].item<float>(), predictions[i].Probabilities[c], 4);
        }
    }
}

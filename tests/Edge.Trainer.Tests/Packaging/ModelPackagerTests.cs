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

    [Fact]
    public void A_meta_learned_head_initialization_ships_in_the_package_and_loads_on_the_device()
    {
        using var scope = NewDisposeScope();
        var model = TransferModel.Create("resnet18", classes: 5, seed: 4);
        manual_seed(8);
        var features = randn(100, 512);
        int[] labels = [.. Enumerable.Range(0, 100).Select(i => i % 5)];
        using var init = EdgeTL.Trainer.Meta.MetaLearner.Train(features, labels, [0, 1, 2, 3, 4],
            new EdgeTL.Trainer.Meta.MetaLearningOptions { Algorithm = EdgeTL.Trainer.Meta.MetaAlgorithm.Anil, Iterations = 3, InnerSteps = 4, InnerLearningRate = 0.05, Hidden = 64 });
        using var key = SigningKey.Create();
        string package = Path.Combine(_dir, "cold-start.tar");
        var manifest = ModelPackager.Write(model, new PackageRequest
        {
            Name = "cold-start",
            Version = "0.1.0",
            Counter = 1,
            Labels = ["a", "b", "c", "d", "e"],
            Input = TestData.Pipeline(32).Options,
            GoldenImages = TestData.Test.SamplePerClass(1, seed: 1),
            IncludeFloat16 = false,
            HeadInitialization = init,
        }, key, package);
        Assert.Contains(manifest.Files, f => f.Role == PackageFileRoles.HeadInitialization && f.Path == "head.init.safetensors");

        using var trusted = new TrustedKeys([SigningKey.FromPem(key.PublicPem())]);
        var installed = new ModelStore(Path.Combine(_dir, "store"), trusted).Install(package);
        using var loaded = EdgeTL.Trainer.Meta.MetaInitialization.Load(installed.PathOf(PackageFileRoles.HeadInitialization)!);
        Assert.Equal(EdgeTL.Trainer.Meta.MetaAlgorithm.Anil, loaded.Options.Algorithm);
        Assert.Equal(4, loaded.Options.InnerSteps);
        Assert.Equal(0.05, loaded.Options.InnerLearningRate);
        Assert.Equal(init.InnerRates, loaded.InnerRates);            // the learned step sizes travel, bit for bit
        Assert.NotEqual(0.05, loaded.InnerRates[0][2]);             // and they were learned
        Assert.Equal(5, loaded.Ways);
        var x = features[..10];
        using var a = init.CreateHead();
        using var b = loaded.CreateHead();
        a.eval();
        b.eval();
        Assert.True(TestData.Same(a.forward(x), b.forward(x)));
        using var adapted = loaded.Adapt(features[..25], tensor(labels.Take(25).Select(l => (long)l).ToArray()));
        Assert.Equal([25L, 5L], adapted.forward(features[..25]).shape);

        // A file that is not a head initialization is refused with a clear error.
        string weights = installed.PathOf(PackageFileRoles.Weights)!;
        Assert.Equal(TrainerErrorCode.InvalidWeightsFile, Assert.Throws<EdgeTrainerException>(() => EdgeTL.Trainer.Meta.MetaInitialization.Load(weights)).Code);
    }
}

using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Experiments;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

public sealed class ImageNetOnnxImportTests
{
    [Fact]
    public void The_ML_NET_ResNet18_imports_and_matches_ONNX_Runtime_on_real_photos()
    {
        using var scope = NewDisposeScope();
        var backbone = OnnxImporter.ImportBackbone(ImageNetOnnx.Chained, "ML.NET ResNet18");
        backbone.eval();
        Assert.Equal(8, backbone.Opset);
        Assert.Equal(512, backbone.FeatureDim);
        Assert.Equal(224, backbone.MinInputSize);
        // CNTK's ResNet-18 has 22 convolutions, each followed by BatchNorm: 66 parameters, 44 running statistics.
        Assert.Equal(66, backbone.parameters().Count());
        Assert.Equal(44, backbone.state_dict().Count - 66);
        Assert.All(backbone.LayerGroups, g => Assert.True(g.ParameterCount > 0, g.Name));

        using var ort = OnnxModel.Load(ImageNetOnnx.Chained);
        var features = new List<Tensor>();
        foreach (var (name, image) in ImageNetOnnx.Photos())
        {
            var (values, _) = ort.Run(image.data<float>().ToArray(), [1, 3, 224, 224]);
            var expected = tensor(values).reshape(1, -1);
            Tensor actual;
            using (no_grad())
                actual = backbone.ForwardFeatures(image);
            double diff = OnnxTestModels.MaxDiff(actual, expected);
            Console.WriteLine($"{name}: max |Δ| = {diff:E2}, max feature {expected.max().item<float>():F2}, mean {expected.mean().item<float>():F3}");
            Assert.True(diff <= 1e-4, $"{name}: {diff:E2}");
            features.Add(actual);
        }
        Assert.Equal(4, features.Count);
        // Different photos give clearly different features (the weights are real, not a constant map).
        Assert.True(nn.functional.cosine_similarity(features[0], features[1]).item<float>() < 0.95f);
    }

    [Fact]
    public void The_imported_ImageNet_backbone_fine_tunes_on_Fashion_MNIST()
    {
        using var scope = NewDisposeScope();
        var backbone = OnnxImporter.ImportBackbone(ImageNetOnnx.Chained, "ML.NET ResNet18");
        manual_seed(1);
        var model = new TransferModel(backbone, classes: 10);
        model.Freeze("stem", "stage1", "stage2", "stage3");
        var stage4Before = model.Group("stage4").Parameters().Select(p => p.detach().clone()).ToList();
        var optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad), lr: 1e-4);
        var set = TestData.Train.SamplePerClass(4, seed: 2);
        var batches = new ImageTensorBatches(new BatchLoader(set, ImageNetOnnx.Pipeline, 10, shuffle: true, augment: false, seed: 2));
        var losses = new List<float>();
        for (int epoch = 0; epoch < 5; epoch++)
        {
            foreach (var (inputs, labels) in batches.Epoch(epoch))
            {
                using var step = NewDisposeScope();
                model.SetTrainingMode(true);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(inputs), labels);
                loss.backward();
                optimizer.step();
                losses.Add(loss.item<float>());
            }
        }
        Console.WriteLine($"ML.NET ResNet18 fine-tune (stage4 + head, 20 steps): loss {losses.Take(4).Average():F3} → {losses.TakeLast(4).Average():F3}");
        Assert.True(losses.TakeLast(4).Average() < 0.5 * losses.Take(4).Average());
        Assert.Contains(model.Group("stage4").Parameters().Zip(stage4Before), pair => !TestData.Same(pair.First, pair.Second));
    }

    /// <summary>
    /// Fashion-MNIST, 10 classes, 50 labelled images per class, 400 of the bundled test images (40 per class).
    /// Head-only on the imported ImageNet backbone against the same graph with random weights
    /// (torchvision-style initialization, BatchNorm statistics re-estimated on the labelled
    /// images, so the random network gets usable activations). Heads train for 200 epochs. Each of three seeds draws its
    /// own labelled sample, random backbone and head initialization. Features are extracted by
    /// ONNX Runtime from the imported modules exported again (they match the TorchSharp modules
    /// within 1e-4, see above, at about twice the speed).
    /// </summary>
    [Fact]
    public void Transfer_from_ImageNet_pays_on_Fashion_MNIST()
    {
        using var scope = NewDisposeScope();
        // 40 held-out images per class (400): every extraction at 224 px costs CI time, and four of them run on the test set.
        var test = TestData.Test.SamplePerClass(40, seed: 9);
        var options = new TransferExperimentOptions { HeadEpochs = 200 };
        var pretrained = OnnxImporter.ImportBackbone(ImageNetOnnx.Chained, "ML.NET ResNet18");
        using var pretrainedOrt = OnnxModel.Load(pretrained.ToModelProto().ToByteArray(), ImageNetOnnx.SharedMachine);
        using var pretrainedTest = Extract(pretrainedOrt, test);
        double extraction = pretrainedTest.ExtractionSeconds;
        int extracted = test.Count;

        var rows = new List<(double Pretrained, double Random)>();
        for (int seed = 0; seed < 3; seed++)
        {
            var train = TestData.Train.SamplePerClass(50, seed);
            using var pretrainedTrain = Extract(pretrainedOrt, train);
            extraction += pretrainedTrain.ExtractionSeconds;
            extracted += train.Count;

            using var random = OnnxImporter.ImportBackbone(ImageNetOnnx.Chained, "ML.NET ResNet18");
            random.ResetParameters(seed: 100 + seed);
            BatchNormCalibration.Recalibrate(random, ImageTensorBatches.ForEvaluation(train.SamplePerClass(20, seed), ImageNetOnnx.Pipeline, 50).Epoch(0).Select(b => b.Inputs));
            using var randomOrt = OnnxModel.Load(random.ToModelProto().ToByteArray(), ImageNetOnnx.SharedMachine);
            using var randomTrain = Extract(randomOrt, train);
            using var randomTest = Extract(randomOrt, test);

            double p = TransferExperiment.HeadOnly(pretrainedTrain, pretrainedTest, options, seed);
            double r = TransferExperiment.HeadOnly(randomTrain, randomTest, options, seed);
            Console.WriteLine($"seed {seed}: ImageNet head-only {p:P1}, random-weights head-only {r:P1}");
            rows.Add((p, r));
        }
        double meanPretrained = rows.Average(r => r.Pretrained), meanRandom = rows.Average(r => r.Random);
        Console.WriteLine($"mean of 3 seeds: ImageNet {meanPretrained:P1}, random weights {meanRandom:P1}, transfer gain {(meanPretrained - meanRandom) * 100:F1} pt; "
            + $"ImageNet feature extraction {extraction:F1} s for {extracted} images at 224×224 ({extracted / extraction:F1} img/s, ONNX Runtime)");
        Assert.True(meanPretrained >= 0.80, $"ImageNet head-only {meanPretrained:P1}");
        Assert.True(meanPretrained - meanRandom >= 0.05, $"TG {(meanPretrained - meanRandom) * 100:F1} pt");
    }

    private static FeatureSet Extract(OnnxModel backbone, LabeledImageSet set) =>
        FeatureExtraction.Extract(backbone, ImageTensorBatches.ForEvaluation(set, ImageNetOnnx.Pipeline, batchSize: 50), set.ClassCount);
}

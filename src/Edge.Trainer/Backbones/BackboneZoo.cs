using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Backbones;

/// <summary>
/// The six supported architectures, built from TorchSharp's torchvision models so that
/// layouts, parameter counts and state-dict names are torchvision's.
/// </summary>
public static class BackboneZoo
{
    /// <summary>Every architecture name the zoo accepts.</summary>
    public static IReadOnlyList<string> Architectures { get; } =
        ["resnet18", "resnet34", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"];

    /// <summary>Smallest input side the backbones accept (five stride-2 stages).</summary>
    public const int MinInputSize = 32;

    /// <summary>Throws <see cref="TrainerErrorCode.UnknownArchitecture"/> unless the zoo has <paramref name="architecture"/>.</summary>
    public static void EnsureKnown(string architecture)
    {
        if (!Architectures.Contains(architecture))
            throw new EdgeTrainerException(TrainerErrorCode.UnknownArchitecture,
                $"Unknown architecture '{architecture}'. Known: {string.Join(", ", Architectures)}.");
    }

    /// <summary>Creates a randomly initialized backbone (torchvision's initialization).</summary>
    /// <exception cref="EdgeTrainerException">Unknown architecture.</exception>
    public static ZooBackbone Create(string architecture, int? seed = null)
    {
        var reference = CreateReference(architecture, 1000, seed);
        return FromReference(architecture, reference);
    }

    /// <summary>
    /// The full torchvision classifier for <paramref name="architecture"/> (with its original
    /// classifier), e.g. to check parameter counts or to load an ImageNet state dict.
    /// </summary>
    public static nn.Module<Tensor, Tensor> CreateReference(string architecture, int numClasses = 1000, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        EnsureKnown(architecture);
        if (seed is int s)
            torch.manual_seed(s);
        return architecture switch
        {
            "resnet18" => torchvision.models.resnet18(num_classes: numClasses),
            "resnet34" => torchvision.models.resnet34(num_classes: numClasses),
            "resnet50" => torchvision.models.resnet50(num_classes: numClasses),
            "mobilenet_v2" => torchvision.models.mobilenet_v2(num_classes: numClasses),
            "mobilenet_v3_small" when numClasses == 1000 => torchvision.models.mobilenet_v3_small(),
            "mobilenet_v3_large" when numClasses == 1000 => torchvision.models.mobilenet_v3_large(),
            "mobilenet_v3_small" or "mobilenet_v3_large" => throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                $"{architecture} is only built with its 1,000-class ImageNet classifier; use a transfer head for other class counts."),
            _ => throw new InvalidOperationException($"The zoo lists '{architecture}' but cannot build it."),
        };
    }

    /// <summary>Parameters of the reference model's classifier (what the backbone leaves out).</summary>
    public static long ClassifierParameterCount(nn.Module<Tensor, Tensor> reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return reference.named_children()
            .Where(c => c.name is "fc" or "classifier")
            .Sum(c => c.module.parameters().Sum(p => p.numel()));
    }

    private static ZooBackbone FromReference(string architecture, nn.Module<Tensor, Tensor> reference)
    {
        var children = reference.named_children().ToDictionary(c => c.name, c => c.module);
        if (architecture.StartsWith("resnet", StringComparison.Ordinal))
        {
            string[] order = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"];
            var kept = order.Select(n => (n, children[n])).ToArray();
            return new ZooBackbone(architecture, kept, kept.Select(k => (k.n, (nn.Module<Tensor, Tensor>)k.Item2)).ToArray());
        }
        var features = children["features"];
        var units = features.named_children().Select(c => ("features." + c.name, (nn.Module<Tensor, Tensor>)c.module)).ToArray();
        return new ZooBackbone(architecture, [("features", features)], units);
    }
}

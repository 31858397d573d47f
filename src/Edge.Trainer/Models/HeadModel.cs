using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Models;

/// <summary>
/// A classifier head trained on its own, over cached backbone features: [N, D] → [N, classes].
/// This is the fast path for head-only transfer: the backbone runs once, not every epoch.
/// </summary>
public sealed class HeadModel : nn.Module<Tensor, Tensor>, ITrainable
{
    private readonly nn.Module<Tensor, Tensor> head;
    private readonly LayerGroup[] _groups;

    /// <summary>Wraps an existing head (e.g. <see cref="TransferModel.Head"/>, shared, not copied).</summary>
    public HeadModel(nn.Module<Tensor, Tensor> head, int featureDim, int classes)
        : base(nameof(HeadModel))
    {
        ArgumentNullException.ThrowIfNull(head);
        this.head = head;
        FeatureDim = featureDim;
        ClassCount = classes;
        RegisterComponents();
        _groups = [new LayerGroup(LayerGroup.HeadName, [head])];
    }

    /// <summary>Creates a fresh seed head for <paramref name="featureDim"/>-wide features.</summary>
    public static HeadModel Create(int featureDim, int classes, HeadOptions? options = null) =>
        new(ClassifierHead.Create(featureDim, classes, options), featureDim, classes);

    /// <summary>Width of the features the head reads.</summary>
    public int FeatureDim { get; }

    /// <summary>The wrapped head.</summary>
    public nn.Module<Tensor, Tensor> Head => head;

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Network => this;

    /// <inheritdoc />
    public int ClassCount { get; }

    /// <inheritdoc />
    public IReadOnlyList<LayerGroup> Groups => _groups;

    /// <summary>[N, D] features → [N, classes] logits.</summary>
    public override Tensor forward(Tensor input)
    {
        InputGuard.RequireFeatures(input, FeatureDim);
        using var scope = NewDisposeScope();
        var computeType = head.parameters().First().dtype;
        var x = input.dtype == computeType ? input : input.to(computeType);
        return head.forward(x).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void SetTrainingMode(bool training) => train(training);
}

using EdgeTL.Trainer.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Models;

/// <summary>
/// A backbone plus the seed's classifier head: [N, 3, H, W] → [N, classes].
/// State-dict keys are <c>backbone.*</c> (torchvision names) and <c>head.*</c>.
/// Layer groups are the backbone's (stem, stage1…stage4) and <c>head</c>.
/// </summary>
public sealed class TransferModel : nn.Module<Tensor, Tensor>, ITrainable
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly nn.Module<Tensor, Tensor> head;
    private readonly LayerGroup[] _groups;

    /// <summary>Wraps <paramref name="backbone"/> with a new head of <paramref name="classes"/> outputs.</summary>
    public TransferModel(IBackbone backbone, int classes, HeadOptions? headOptions = null)
        : base(nameof(TransferModel))
    {
        ArgumentNullException.ThrowIfNull(backbone);
        this.backbone = backbone.Network;
        head = ClassifierHead.Create(backbone.FeatureDim, classes, headOptions);
        ClassCount = classes;
        RegisterComponents();
        _groups = [.. Features.LayerGroups, new LayerGroup(LayerGroup.HeadName, [head])];
    }

    /// <summary>Creates a zoo backbone with a fresh head.</summary>
    public static TransferModel Create(string architecture, int classes, HeadOptions? headOptions = null, int? seed = null) =>
        new(BackboneZoo.Create(architecture, seed), classes, headOptions);

    /// <summary>The feature extractor.</summary>
    public IBackbone Backbone => Features;

    // Not a field: RegisterComponents would register the backbone a second time under it.
    private IBackbone Features => (IBackbone)backbone;

    /// <summary>The classifier head: [N, D] → [N, classes].</summary>
    public nn.Module<Tensor, Tensor> Head => head;

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Network => this;

    /// <inheritdoc />
    public int ClassCount { get; }

    /// <inheritdoc />
    public IReadOnlyList<LayerGroup> Groups => _groups;

    /// <summary>[N, 3, H, W] normalized images → [N, classes] logits. Bad shapes or NaN give a typed error.</summary>
    public override Tensor forward(Tensor input)
    {
        InputGuard.RequireImages(input, 3, Features.MinInputSize);
        using var scope = NewDisposeScope();
        // In mixed precision the network computes in bf16/fp16: inputs are cast at the door and logits leave as fp32.
        var computeType = backbone.parameters().First().dtype;
        var x = input.dtype == computeType ? input : input.to(computeType);
        return head.forward(Features.ForwardFeatures(x)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The logits from what the backbone's frozen prefix made of the inputs (<see cref="IFrozenPrefix.ForwardPrefix"/>
    /// at <paramref name="cut"/>): the same logits as <see cref="forward"/> on those inputs, running only the layers after the cut.
    /// </summary>
    public Tensor ForwardFromPrefix(Tensor prefix, int cut)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var split = Features as IFrozenPrefix
            ?? throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"{Features.Architecture} cannot run from a cached prefix.");
        using var scope = NewDisposeScope();
        var computeType = backbone.parameters().First().dtype;
        var x = prefix.dtype == computeType ? prefix : prefix.to(computeType);
        return head.forward(split.ForwardFeaturesFrom(x, cut)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The group called <paramref name="name"/>.</summary>
    public LayerGroup Group(string name) =>
        _groups.FirstOrDefault(g => g.Name == name)
        ?? throw new EdgeTrainerException(TrainerErrorCode.UnknownLayerGroup,
            $"Unknown layer group '{name}'. Groups: {string.Join(", ", _groups.Select(g => g.Name))}.");

    /// <summary>Freezes the named groups.</summary>
    public void Freeze(params string[] groups)
    {
        foreach (var g in groups)
            Group(g).SetTrainable(false);
    }

    /// <summary>Unfreezes the named groups.</summary>
    public void Unfreeze(params string[] groups)
    {
        foreach (var g in groups)
            Group(g).SetTrainable(true);
    }

    /// <summary>Freezes every backbone group, leaving only the head trainable (head-only training).</summary>
    public void FreezeBackbone()
    {
        foreach (var g in Features.LayerGroups)
            g.SetTrainable(false);
    }

    /// <summary>Names of the groups that currently train.</summary>
    public IReadOnlyList<string> TrainableGroups() => _groups.Where(g => g.IsTrainable).Select(g => g.Name).ToArray();

    /// <inheritdoc />
    public void SetTrainingMode(bool training)
    {
        train(training);
        if (!training)
            return;
        foreach (var g in _groups)
        {
            if (!g.IsTrainable)
                g.SetMode(false);
        }
    }
}

using EdgeTL.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Backbones;

/// <summary>
/// A torchvision backbone without its classifier: the feature layers run in order, then global
/// average pooling. Sub-modules keep torchvision's names (<c>conv1</c>, <c>layer4</c>,
/// <c>features.3</c>…), so state-dict keys stay PyTorch-compatible.
/// Layer groups are found from the network itself: each unit is assigned to the stage of the
/// output stride it produces (≤2 stem, 4 stage1, 8 stage2, 16 stage3, ≥32 stage4).
/// A leading run of frozen units runs under no-grad, so it keeps no activations.
/// </summary>
public sealed class ZooBackbone : nn.Module<Tensor, Tensor>, IBackbone
{
    /// <summary>The five group names, bottom to top.</summary>
    public static IReadOnlyList<string> GroupNames { get; } = ["stem", "stage1", "stage2", "stage3", "stage4"];

    private readonly nn.Module<Tensor, Tensor>[] _units;
    private readonly string[] _unitNames;
    private readonly LayerGroup[] _groups;
    private readonly int[] _unitGroup;

    internal ZooBackbone(string architecture, IEnumerable<(string Name, nn.Module Module)> children, IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module)> units)
        : base(architecture)
    {
        Architecture = architecture;
        foreach (var (name, module) in children)
            register_module(name, module);
        _units = [.. units.Select(u => u.Module)];
        _unitNames = [.. units.Select(u => u.Name)];
        (_unitGroup, FeatureDim) = ProbeStages(_units);
        _groups = GroupNames
            .Select((g, gi) => new LayerGroup(g, _units.Where((_, ui) => _unitGroup[ui] == gi).Cast<nn.Module>().ToArray()))
            .ToArray();
    }

    /// <inheritdoc />
    public string Architecture { get; }

    /// <inheritdoc />
    public int FeatureDim { get; }

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Network => this;

    /// <inheritdoc />
    public int MinInputSize => BackboneZoo.MinInputSize;

    /// <inheritdoc />
    public IReadOnlyList<LayerGroup> LayerGroups => _groups;

    /// <summary>The feature units in forward order, with their state-dict paths (<c>layer1</c>, <c>features.3</c>).</summary>
    internal IEnumerable<(string Name, nn.Module<Tensor, Tensor> Module)> NamedUnits => _unitNames.Zip(_units);

    /// <summary>Forward pass: the same as <see cref="ForwardFeatures"/>.</summary>
    public override Tensor forward(Tensor input) => ForwardFeatures(input);

    /// <inheritdoc />
    public Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        int firstTrainable = FirstTrainableUnit();
        var x = input;
        if (firstTrainable > 0)
        {
            using (no_grad())
            {
                for (int i = 0; i < firstTrainable; i++)
                    x = _units[i].forward(x);
            }
        }
        for (int i = firstTrainable; i < _units.Length; i++)
            x = _units[i].forward(x);
        return nn.functional.adaptive_avg_pool2d(x, 1).flatten(1).MoveToOuterDisposeScope();
    }

    private int FirstTrainableUnit()
    {
        if (!is_grad_enabled())
            return 0;
        for (int i = 0; i < _units.Length; i++)
        {
            if (_units[i].parameters().Any(p => p.requires_grad))
                return i;
        }
        return _units.Length;
    }

    private static (int[] UnitGroup, int FeatureDim) ProbeStages(nn.Module<Tensor, Tensor>[] units)
    {
        const int probeSize = 64;
        var groups = new int[units.Length];
        var wasTraining = units.Select(u => u.training).ToArray();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var u in units)
            u.eval();
        var x = zeros(1, 3, probeSize, probeSize);
        for (int i = 0; i < units.Length; i++)
        {
            x = units[i].forward(x);
            int stride = probeSize / (int)x.shape[^1];
            groups[i] = stride switch
            {
                <= 2 => 0,
                4 => 1,
                8 => 2,
                16 => 3,
                _ => 4,
            };
        }
        for (int i = 0; i < units.Length; i++)
            units[i].train(wasTraining[i]);
        return (groups, (int)x.shape[1]);
    }
}

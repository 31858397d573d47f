using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Models;

/// <summary>
/// A named slice of a network (stem, stage1…stage4, head) that is frozen, unfrozen and given a
/// learning rate as one unit, like timm's <c>group_matcher</c>.
/// </summary>
public sealed class LayerGroup
{
    /// <summary>Name of the group that holds the classifier head.</summary>
    public const string HeadName = "head";

    /// <summary>Creates a group over the given modules.</summary>
    public LayerGroup(string name, IReadOnlyList<nn.Module> modules)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(modules);
        Name = name;
        Modules = modules;
    }

    /// <summary>The group's name.</summary>
    public string Name { get; }

    /// <summary>The modules in the group, in forward order.</summary>
    public IReadOnlyList<nn.Module> Modules { get; }

    /// <summary>True for the classifier head.</summary>
    public bool IsHead => Name == HeadName;

    /// <summary>All parameters of the group.</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters() => Modules.SelectMany(m => m.parameters());

    /// <summary>Number of scalar parameters.</summary>
    public long ParameterCount => Parameters().Sum(p => p.numel());

    /// <summary>True when any parameter of the group receives gradients.</summary>
    public bool IsTrainable => Parameters().Any(p => p.requires_grad);

    /// <summary>Freezes (false) or unfreezes (true) every parameter of the group.</summary>
    public void SetTrainable(bool trainable)
    {
        foreach (var p in Parameters())
            p.requires_grad = trainable;
    }

    /// <summary>Puts every module of the group in training or evaluation mode (BatchNorm, Dropout).</summary>
    public void SetMode(bool training)
    {
        foreach (var m in Modules)
            m.train(training);
    }
}

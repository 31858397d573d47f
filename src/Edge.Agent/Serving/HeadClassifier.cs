using EdgeTL.Agent.Storage;
using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Serving;

/// <summary>
/// A head trained on the device (the seed head, or a bottleneck + head from domain adaptation)
/// serving over the frozen backbone's features: features [n, d] → class probabilities [n, C].
/// </summary>
public sealed class HeadClassifier : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _module;

    /// <summary>Wraps a trained <paramref name="module"/> described by <paramref name="record"/> (the classifier owns the module).</summary>
    public HeadClassifier(nn.Module<Tensor, Tensor> module, HeadRecord record)
    {
        _module = module ?? throw new ArgumentNullException(nameof(module));
        Record = record ?? throw new ArgumentNullException(nameof(record));
        _module.eval();
    }

    /// <summary>What it is and where its weights are.</summary>
    public HeadRecord Record { get; }

    /// <summary>The seed head itself (null for an adapted head): where a backbone fine-tune starts its head from.</summary>
    public nn.Module<Tensor, Tensor>? SeedHead => _module is HeadModel seed ? seed.Head : null;

    /// <summary>Class labels in output order.</summary>
    public IReadOnlyList<string> Labels => Record.Labels;

    /// <summary>Loads the weights file of <paramref name="record"/>.</summary>
    public static HeadClassifier Load(HeadRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        nn.Module<Tensor, Tensor> module = record.Kind == "adapted"
            ? new AdaptationModel(record.FeatureDim, record.BottleneckDim, record.Labels.Count)
            : HeadModel.Create(record.FeatureDim, record.Labels.Count);
        Checkpoint.Load(module, record.Path);
        return new HeadClassifier(module, record);
    }

    /// <summary>Writes the weights to <see cref="HeadRecord.Path"/>.</summary>
    public void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Record.Path)!);
        Checkpoint.Save(_module, Record.Path);
    }

    /// <summary>Class probabilities [count][C] of <paramref name="features"/> (count × d, row-major).</summary>
    public float[][] Probabilities(float[] features, int count)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (count <= 0 || features.Length != count * Record.FeatureDim)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, $"Expected {count} × {Record.FeatureDim} features, got {features.Length} values.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var probabilities = nn.functional.softmax(_module.forward(tensor(features).reshape(count, Record.FeatureDim)), 1).data<float>().ToArray();
        int classes = Labels.Count;
        return [.. Enumerable.Range(0, count).Select(i => probabilities[(i * classes)..((i + 1) * classes)])];
    }

    /// <summary>
    /// The adapted head's bottleneck embedding [count][b] of <paramref name="features"/>, or null
    /// for a seed head (it has no domain-aligned embedding).
    /// </summary>
    public float[][]? Embed(float[] features, int count)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (_module is not AdaptationModel adapted)
            return null;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var embedded = adapted.Embed(tensor(features).reshape(count, Record.FeatureDim)).data<float>().ToArray();
        int b = Record.BottleneckDim;
        return [.. Enumerable.Range(0, count).Select(i => embedded[(i * b)..((i + 1) * b)])];
    }

    /// <summary>Frees the module.</summary>
    public void Dispose() => _module.Dispose();
}

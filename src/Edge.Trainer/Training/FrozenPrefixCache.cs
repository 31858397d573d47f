using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training;

/// <summary>
/// Keeps, per sample, what the backbone's frozen prefix makes of it (fp16, in memory), so that an
/// epoch runs only the layers that learn: when progressive unfreezing trains stage4, stem to stage3
/// run once per sample instead of once per epoch. The cache follows the unfreeze schedule: when a
/// group joins and the prefix gets shorter, it starts again at the new cut.
/// <para>
/// It applies only where the result is the same as recomputing: inputs that do not change between
/// epochs (<see cref="IIndexedTensorBatches.InputsAreFixed"/>), a backbone that can split its
/// forward pass with one value crossing the cut (<see cref="IFrozenPrefix"/>), and a prefix whose
/// groups are all frozen (they run in evaluation mode, so their BatchNorm uses its running
/// statistics). Elsewhere, and where the cache would pass <see cref="TrainerOptions.FrozenPrefixCacheBytes"/>,
/// the trainer recomputes the prefix as before.
/// </para>
/// </summary>
public sealed class FrozenPrefixCache : IDisposable
{
    private readonly TransferModel _model;
    private readonly IFrozenPrefix _backbone;
    private readonly int _samples;
    private readonly long _budgetBytes;
    private int _cut = -1;
    private bool _active;
    private Tensor? _values;
    private bool[] _filled = [];

    private FrozenPrefixCache(TransferModel model, IFrozenPrefix backbone, int samples, long budgetBytes)
    {
        _model = model;
        _backbone = backbone;
        _samples = samples;
        _budgetBytes = budgetBytes;
    }

    /// <summary>A cache for <paramref name="model"/> trained on <paramref name="batches"/>, or null where none applies.</summary>
    public static FrozenPrefixCache? For(ITrainable model, ITensorBatches batches, long budgetBytes) =>
        model is TransferModel { Backbone: IFrozenPrefix backbone } transfer && batches is IIndexedTensorBatches { InputsAreFixed: true }
            ? new FrozenPrefixCache(transfer, backbone, batches.SampleCount, budgetBytes)
            : null;

    /// <summary>Whether the current prefix is being cached.</summary>
    public bool Active => _active;

    /// <summary>Samples served from the cache so far (not recomputed).</summary>
    public long Hits { get; private set; }

    /// <summary>Bytes the cache holds now.</summary>
    public long Bytes => _values is null ? 0 : _values.NumberOfElements * 2;

    /// <summary>
    /// Logits for a batch: from the cached prefix values of <paramref name="indices"/> where the
    /// current prefix can be cached, else the whole network on <paramref name="inputs"/>.
    /// </summary>
    public Tensor Forward(Tensor inputs, Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(indices);
        int cut = _backbone.FrozenPrefixLength;
        if (cut != _cut)
            Reset(cut);
        if (!_active)
            return _model.Network.forward(inputs);

        using var scope = NewDisposeScope();
        long[] rows = indices.data<long>().ToArray();
        Tensor prefix;
        if (_values is not null && rows.All(r => _filled[r]))
        {
            prefix = _values.index_select(0, indices);
            Hits += rows.Length;
        }
        else
        {
            // Computed once, kept in fp16, and used as kept: the first epoch at a cut sees what later epochs see.
            prefix = _backbone.ForwardPrefix(inputs.to(_model.Backbone.Network.parameters().First().dtype), _cut).to(ScalarType.Float16);
            if (!Store(prefix, indices, rows))
                return _model.Network.forward(inputs).MoveToOuterDisposeScope();   // over budget: recompute, as without a cache
        }
        return _model.ForwardFromPrefix(prefix, _cut).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose() => _values?.Dispose();

    private void Reset(int cut)
    {
        _values?.Dispose();
        _values = null;
        _filled = new bool[_samples];
        _cut = cut;
        _active = cut > 0 && _backbone.CanSplitAt(cut);
    }

    /// <summary>Keeps the batch's prefix values; false (and no cache at this cut) when the whole set would pass the budget.</summary>
    private bool Store(Tensor prefix, Tensor indices, long[] rows)
    {
        if (_values is null)
        {
            long perSample = prefix.NumberOfElements / prefix.shape[0];
            if (perSample * 2 * _samples > _budgetBytes)
            {
                _active = false;
                return false;
            }
            long[] shape = [_samples, .. prefix.shape.Skip(1)];
            _values = zeros(shape, ScalarType.Float16, prefix.device).DetachFromDisposeScope();
        }
        _values.index_copy_(0, indices, prefix);
        foreach (long r in rows)
            _filled[r] = true;
        return true;
    }
}

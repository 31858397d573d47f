using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop;

/// <summary>
/// Copies a state dict into a model's parameters and buffers in place. Unlike
/// <c>load_state_dict</c> it keeps each parameter's <c>requires_grad</c> (PyBridge's
/// <c>load_py</c> clears it) and can skip a head of another shape, whole (where <c>load_py</c> with
/// <c>skip</c> crashes). Any other mismatch is an error listing the missing, unexpected and
/// mis-shaped keys, and nothing is copied.
/// </summary>
public static class StateDictLoader
{
    private const int ListedKeys = 12;

    /// <summary>Reads <paramref name="path"/> (PyTorch zip, safetensors or TorchSharp, told apart by content) and loads it: the same as <see cref="WeightFiles.Load"/>.</summary>
    public static WeightLoadReport LoadFile(nn.Module model, string path, WeightLoadOptions? options = null) =>
        WeightFiles.Load(model, path, options);

    /// <summary>Loads <paramref name="state"/> into <paramref name="model"/> (tensors are copied; the caller keeps ownership).</summary>
    public static WeightLoadReport Load(nn.Module model, IReadOnlyDictionary<string, Tensor> state, WeightLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        options ??= new WeightLoadOptions();
        var target = model.state_dict();
        string prefix = options.KeyPrefix ?? DetectPrefix(target.Keys, state.Keys);
        var source = state.ToDictionary(kv => prefix + kv.Key, kv => kv.Value, StringComparer.Ordinal);

        string? HeadOf(string key) => options.HeadPrefixes
            .Select(p => key.StartsWith(p, StringComparison.Ordinal) ? p : key.StartsWith(prefix + p, StringComparison.Ordinal) ? prefix + p : null)
            .FirstOrDefault(p => p is not null);

        var missing = target.Keys.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k)).ToList();
        var misshaped = target.Keys.Where(k => source.TryGetValue(k, out var s) && !s.shape.SequenceEqual(target[k].shape)).ToList();
        // A head any key of which does not fit is skipped whole: a classifier is never half loaded.
        var brokenHeads = options.SkipHead
            ? missing.Concat(unexpected).Concat(misshaped).Select(HeadOf).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];
        bool IsSkipped(string key) => HeadOf(key) is { } head && brokenHeads.Contains(head);
        var skipped = target.Keys.Concat(source.Keys).Where(IsSkipped).Distinct().Order(StringComparer.Ordinal).ToList();
        missing.RemoveAll(IsSkipped);
        unexpected.RemoveAll(IsSkipped);
        misshaped.RemoveAll(IsSkipped);
        if (missing.Count + unexpected.Count + misshaped.Count > 0)
            throw Mismatch(missing, unexpected, misshaped.Select(k => $"{k} (file [{string.Join(", ", source[k].shape)}], model [{string.Join(", ", target[k].shape)}])").ToList(), options.SkipHead);

        var loaded = new List<string>();
        using (no_grad())
        {
            foreach (var (key, destination) in target)
            {
                if (skipped.Contains(key) || !source.TryGetValue(key, out var value))
                    continue;
                destination.copy_(value.to(destination.dtype, destination.device));
                loaded.Add(key);
            }
        }
        return new WeightLoadReport(loaded, skipped, prefix);
    }

    private static string DetectPrefix(IEnumerable<string> targetKeys, IEnumerable<string> sourceKeys)
    {
        var targets = targetKeys.ToHashSet(StringComparer.Ordinal);
        var sources = sourceKeys.ToList();
        int direct = sources.Count(targets.Contains);
        int viaBackbone = sources.Count(k => targets.Contains("backbone." + k));
        return viaBackbone > direct ? "backbone." : "";
    }

    private static EdgeTrainerException Mismatch(List<string> missing, List<string> unexpected, List<string> misshaped, bool skipHead)
    {
        static string List(string title, List<string> keys) => keys.Count == 0
            ? ""
            : $"\n  {title} ({keys.Count}): {string.Join(", ", keys.Take(ListedKeys))}{(keys.Count > ListedKeys ? ", …" : "")}";
        string hint = skipHead ? "" : "\n  To load a backbone whose classifier differs, skip the head (WeightLoadOptions.SkipHead / --skip-head).";
        return new EdgeTrainerException(TrainerErrorCode.WeightsMismatch,
            "The state dict does not fit the model; nothing was loaded."
            + List("missing keys", missing) + List("unexpected keys", unexpected) + List("mis-shaped keys", misshaped) + hint);
    }
}

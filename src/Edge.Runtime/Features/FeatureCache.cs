using System.Security.Cryptography;
using System.Text;

namespace EdgeTL.Runtime.Features;

/// <summary>
/// Features by sample id for one model version, in memory and on disk
/// (<c>root/&lt;model key&gt;/&lt;hash of id&gt;.f32</c>). Switching to another model key
/// drops the memory entries and deletes the other versions' files: features of an old
/// backbone are never served for a new one.
/// </summary>
public sealed class FeatureCache
{
    private readonly string _root;
    private readonly Dictionary<string, float[]> _memory = new(StringComparer.Ordinal);

    /// <summary>Opens a cache under <paramref name="root"/> for <paramref name="modelKey"/> (e.g. counter plus backbone SHA-256).</summary>
    public FeatureCache(string root, string modelKey)
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = root;
        ModelKey = "";
        SetModel(modelKey);
    }

    /// <summary>The model version the cached features belong to.</summary>
    public string ModelKey { get; private set; }

    /// <summary>Entries in memory.</summary>
    public int Count => _memory.Count;

    /// <summary>Switches model version; features of any other version are invalidated.</summary>
    public void SetModel(string modelKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelKey);
        if (modelKey.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Model key '{modelKey}' may hold only letters, digits, '-', '_' and '.'.");
        if (modelKey == ModelKey)
            return;
        _memory.Clear();
        ModelKey = modelKey;
        Directory.CreateDirectory(_root);
        foreach (var dir in Directory.GetDirectories(_root))
        {
            if (Path.GetFileName(dir) != modelKey)
                Directory.Delete(dir, recursive: true);
        }
        Directory.CreateDirectory(Path.Combine(_root, modelKey));
    }

    /// <summary>The cached features of <paramref name="sampleId"/>, from memory or disk.</summary>
    public bool TryGet(string sampleId, out float[] features)
    {
        if (_memory.TryGetValue(sampleId, out features!))
            return true;
        string file = FileFor(sampleId);
        if (!File.Exists(file))
            return false;
        byte[] bytes = File.ReadAllBytes(file);
        features = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, features, 0, features.Length * 4);
        _memory[sampleId] = features;
        return true;
    }

    /// <summary>Stores features (memory, and disk written atomically).</summary>
    public void Put(string sampleId, float[] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        _memory[sampleId] = features;
        string file = FileFor(sampleId);
        string temp = file + ".tmp";
        var bytes = new byte[features.Length * 4];
        Buffer.BlockCopy(features, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, file, overwrite: true);
    }

    /// <summary>Cached features, or computes, stores and returns them.</summary>
    public float[] GetOrAdd(string sampleId, Func<float[]> compute)
    {
        ArgumentNullException.ThrowIfNull(compute);
        if (TryGet(sampleId, out var cached))
            return cached;
        var features = compute();
        Put(sampleId, features);
        return features;
    }

    private string FileFor(string sampleId) =>
        Path.Combine(_root, ModelKey, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sampleId)))[..32] + ".f32");
}

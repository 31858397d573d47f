using System.Buffers.Binary;
using System.Text.Json;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop;

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON
/// header mapping each name to its dtype, shape and byte range, then the raw little-endian
/// data. Every range is checked against the file before any tensor is made.
/// </summary>
public static class SafeTensors
{
    /// <summary>Largest header accepted (the format's own limit is 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new()
    {
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["F64"] = (ScalarType.Float64, 8),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Loads every tensor of the file (CPU). Corrupt or truncated files give <see cref="TrainerErrorCode.InvalidWeightsFile"/>.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary>Parses a safetensors image held in memory; <paramref name="source"/> names it in errors.</summary>
    public static Dictionary<string, Tensor> Parse(byte[] bytes, string source = "safetensors data")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 8)
            throw Invalid(source, $"{bytes.Length} bytes is too short for a header.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(bytes.Length - 8))
            throw Invalid(source, $"header length {headerLength} does not fit a {bytes.Length}-byte file (truncated?).");
        int dataStart = 8 + (int)headerLength;
        long dataLength = bytes.Length - dataStart;

        JsonDocument header;
        try
        {
            header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"the header is not valid JSON ({e.Message}).");
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (header)
        {
            if (header.RootElement.ValueKind != JsonValueKind.Object)
                throw Invalid(source, "the header is not a JSON object.");
            try
            {
                foreach (var entry in header.RootElement.EnumerateObject())
                {
                    if (entry.Name == "__metadata__")
                        continue;
                    result.Add(entry.Name, ReadTensor(entry, bytes, dataStart, dataLength, source));
                }
            }
            catch
            {
                foreach (var t in result.Values)
                    t.Dispose();
                throw;
            }
        }
        return result;
    }

    /// <summary>The string entries of the file's <c>__metadata__</c> (empty when it has none).</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw Invalid(path, "the file is too short for a header.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(stream.Length - 8))
            throw Invalid(path, $"header length {headerLength} does not fit a {stream.Length}-byte file (truncated?).");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        try
        {
            using var header = JsonDocument.Parse(headerBytes);
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (header.RootElement.ValueKind == JsonValueKind.Object && header.RootElement.TryGetProperty("__metadata__", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in metadata.EnumerateObject().Where(e => e.Value.ValueKind == JsonValueKind.String))
                    result[entry.Name] = entry.Value.GetString()!;
            }
            return result;
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"the header is not valid JSON ({e.Message}).");
        }
    }

    /// <summary>Writes <paramref name="tensors"/> (any device, contiguous or not) in sorted name order, atomically.</summary>
    public static void Save(IReadOnlyDictionary<string, Tensor> tensors, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(path);
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        var blobs = new List<byte[]>(names.Length);
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            long offset = 0;
            foreach (var name in names)
            {
                var t = tensors[name];
                var dtype = DTypes.FirstOrDefault(d => d.Value.Type == t.dtype).Key
                    ?? throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"Tensor '{name}' has dtype {t.dtype}, which safetensors cannot hold.");
                using var cpu = t.detach().cpu().contiguous();
                byte[] data = cpu.bytes.ToArray();
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (var d in t.shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                blobs.Add(data);
                offset += data.Length;
            }
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata)
                    json.WriteString(k, v);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        while (header.Length % 8 != 0)
            header.WriteByte((byte)' ');

        string temp = path + ".tmp";
        using (var file = File.Create(temp))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            file.Write(length);
            header.Position = 0;
            header.CopyTo(file);
            foreach (var blob in blobs)
                file.Write(blob);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    private static Tensor ReadTensor(JsonProperty entry, byte[] bytes, int dataStart, long dataLength, string source)
    {
        var spec = entry.Value;
        if (spec.ValueKind != JsonValueKind.Object
            || !spec.TryGetProperty("dtype", out var dtypeElement)
            || !spec.TryGetProperty("shape", out var shapeElement)
            || !spec.TryGetProperty("data_offsets", out var offsetsElement)
            || shapeElement.ValueKind != JsonValueKind.Array
            || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
            throw Invalid(source, $"entry '{entry.Name}' lacks dtype, shape or a two-element data_offsets.");
        string dtypeName = dtypeElement.GetString() ?? "";
        if (!DTypes.TryGetValue(dtypeName, out var dtype))
            throw Invalid(source, $"entry '{entry.Name}' has unsupported dtype '{dtypeName}'.");
        long[] shape = [.. shapeElement.EnumerateArray().Select(d => d.TryGetInt64(out long v) && v >= 0 ? v : -1)];
        if (shape.Any(d => d < 0))
            throw Invalid(source, $"entry '{entry.Name}' has a negative or non-integer dimension.");
        long begin = offsetsElement[0].TryGetInt64(out long b) ? b : -1;
        long end = offsetsElement[1].TryGetInt64(out long e) ? e : -1;
        long expected = shape.Aggregate(1L, (a, d) => a * d) * dtype.Size;
        if (begin < 0 || end < begin || end > dataLength)
            throw Invalid(source, $"entry '{entry.Name}' spans bytes [{begin}, {end}) outside the {dataLength}-byte data section (truncated?).");
        if (end - begin != expected)
            throw Invalid(source, $"entry '{entry.Name}' holds {end - begin} bytes but {dtypeName}[{string.Join(", ", shape)}] needs {expected}.");

        var tensor = empty(shape, dtype.Type);
        tensor.bytes = bytes.AsSpan(dataStart + (int)begin, (int)(end - begin));
        return tensor;
    }

    private static EdgeTrainerException Invalid(string source, string detail) =>
        new(TrainerErrorCode.InvalidWeightsFile, $"{source} is not a valid safetensors file: {detail}");
}

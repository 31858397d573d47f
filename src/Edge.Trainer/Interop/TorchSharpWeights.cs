using System.Text;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop;

/// <summary>
/// Reads TorchSharp's own weights format (<c>Module.save</c>): a LEB128 count, then for each tensor
/// its name (7-bit length-prefixed UTF-8), dtype code, rank and dimensions (LEB128) and its raw
/// little-endian data. Every entry is checked against the file before any tensor is made, so a
/// truncated or corrupt file is an error naming it, not a crash inside libtorch.
/// </summary>
internal static class TorchSharpWeights
{
    private const int MaxNameBytes = 4096;
    private const int MaxRank = 16;
    private const long MaxTensors = 1 << 20;

    /// <summary>Element sizes by dtype code (TorchSharp writes <see cref="ScalarType"/>'s value).</summary>
    private static readonly Dictionary<long, int> ElementSizes = new()
    {
        [(long)ScalarType.Byte] = 1,
        [(long)ScalarType.Int8] = 1,
        [(long)ScalarType.Int16] = 2,
        [(long)ScalarType.Int32] = 4,
        [(long)ScalarType.Int64] = 8,
        [(long)ScalarType.Float16] = 2,
        [(long)ScalarType.Float32] = 4,
        [(long)ScalarType.Float64] = 8,
        [(long)ScalarType.ComplexFloat32] = 8,
        [(long)ScalarType.ComplexFloat64] = 16,
        [(long)ScalarType.Bool] = 1,
        [(long)ScalarType.BFloat16] = 2,
    };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly record struct Entry(string Name, ScalarType Type, long[] Shape, long Length);

    /// <summary>
    /// Whether <paramref name="head"/> (the start of a file) begins like a TorchSharp weights file:
    /// a count of at least one, then a complete first entry header with a printable UTF-8 name,
    /// a known dtype and a plausible rank. The data itself is not looked at.
    /// </summary>
    public static bool LooksLike(ReadOnlySpan<byte> head)
    {
        int position = 0;
        return ReadCount(head, ref position, out _) is null && ReadEntry(head, ref position, out _) is null;
    }

    /// <summary>Parses a whole file held in memory; <paramref name="source"/> names it in errors.</summary>
    public static Dictionary<string, Tensor> Parse(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        int position = 0;
        if (ReadCount(bytes, ref position, out long count) is { } countProblem)
            throw Invalid(source, countProblem);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            for (long i = 0; i < count; i++)
            {
                if (ReadEntry(bytes, ref position, out var entry) is { } problem)
                    throw Invalid(source, $"tensor {i + 1} of {count}: {problem}");
                if (entry.Length > bytes.Length - position)
                    throw Invalid(source, $"'{entry.Name}' needs {entry.Length} bytes at offset {position}, past the end of the {bytes.Length}-byte file (truncated?).");
                if (result.ContainsKey(entry.Name))
                    throw Invalid(source, $"'{entry.Name}' appears twice.");
                var tensor = empty(entry.Shape, entry.Type);
                tensor.bytes = bytes.AsSpan(position, (int)entry.Length);
                result.Add(entry.Name, tensor);
                position += (int)entry.Length;
            }
            if (position != bytes.Length)
                throw Invalid(source, $"{bytes.Length - position} bytes follow its last tensor ({count} declared).");
        }
        catch
        {
            foreach (var t in result.Values)
                t.Dispose();
            throw;
        }
        return result;
    }

    private static string? ReadCount(ReadOnlySpan<byte> bytes, ref int position, out long count)
    {
        if (ReadVarint(bytes, ref position, out count) is { } problem)
            return $"the tensor count {problem}";
        return count is < 1 or > MaxTensors ? $"a tensor count of {count} is outside [1, {MaxTensors}]." : null;
    }

    /// <summary>Reads one entry's header (not its data); null when well formed, else what is wrong.</summary>
    private static string? ReadEntry(ReadOnlySpan<byte> bytes, ref int position, out Entry entry)
    {
        entry = default;
        if (ReadVarint(bytes, ref position, out long nameLength) is { } p1)
            return $"the name length {p1}";
        if (nameLength is < 1 or > MaxNameBytes)
            return $"a name of {nameLength} bytes is outside [1, {MaxNameBytes}].";
        if (nameLength > bytes.Length - position)
            return "the file ends inside a name (truncated?).";
        string name;
        try
        {
            name = StrictUtf8.GetString(bytes.Slice(position, (int)nameLength));
        }
        catch (DecoderFallbackException)
        {
            return $"the name at offset {position} is not UTF-8.";
        }
        if (name.Any(char.IsControl))
            return $"the name at offset {position} holds control characters.";
        position += (int)nameLength;
        if (ReadVarint(bytes, ref position, out long dtype) is { } p2)
            return $"the dtype of '{name}' {p2}";
        if (!ElementSizes.TryGetValue(dtype, out int elementSize))
            return $"'{name}' has unknown dtype code {dtype}.";
        if (ReadVarint(bytes, ref position, out long rank) is { } p3)
            return $"the rank of '{name}' {p3}";
        if (rank > MaxRank)
            return $"'{name}' has rank {rank}, over {MaxRank}.";
        var shape = new long[rank];
        long length = elementSize;
        for (int d = 0; d < rank; d++)
        {
            if (ReadVarint(bytes, ref position, out shape[d]) is { } p4)
                return $"dimension {d} of '{name}' {p4}";
            try
            {
                length = checked(length * shape[d]);
            }
            catch (OverflowException)
            {
                return $"'{name}' [{string.Join(", ", shape[..(d + 1)])}] is too large.";
            }
        }
        if (length > int.MaxValue)
            return $"'{name}' [{string.Join(", ", shape)}] holds {length} bytes, over 2 GiB.";
        entry = new Entry(name, (ScalarType)dtype, shape, length);
        return null;
    }

    /// <summary>An unsigned LEB128 value of at most 63 bits; null when read, else what is wrong (a phrase continuing a subject).</summary>
    private static string? ReadVarint(ReadOnlySpan<byte> bytes, ref int position, out long value)
    {
        value = 0;
        for (int shift = 0; shift < 63; shift += 7)
        {
            if (position >= bytes.Length)
                return "is cut off by the end of the file (truncated?).";
            byte b = bytes[position++];
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return null;
        }
        return "is not a valid LEB128 number.";
    }

    private static EdgeTrainerException Invalid(string source, string detail) =>
        new(TrainerErrorCode.InvalidWeightsFile, $"'{source}' is not a valid TorchSharp weights file: {detail}");
}

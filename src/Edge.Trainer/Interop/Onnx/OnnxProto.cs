using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>Small builders and readers for ONNX protobuf messages (OnnxSharp's generated classes).</summary>
internal static class OnnxProto
{
    public const int FloatType = (int)TensorProto.Types.DataType.Float;
    public const int Float16Type = (int)TensorProto.Types.DataType.Float16;
    public const int Int64Type = (int)TensorProto.Types.DataType.Int64;

    /// <summary>A float32 initializer holding a copy of <paramref name="value"/>.</summary>
    public static TensorProto FloatTensor(string name, Tensor value)
    {
        using var cpu = value.detach().to(ScalarType.Float32).cpu().contiguous();
        var proto = new TensorProto { Name = name, DataType = FloatType, RawData = ByteString.CopyFrom(cpu.bytes) };
        proto.Dims.AddRange(value.shape);
        return proto;
    }

    /// <summary>A float32 initializer from values.</summary>
    public static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var proto = new TensorProto { Name = name, DataType = FloatType };
        proto.FloatData.AddRange(values);
        proto.Dims.AddRange(dims);
        return proto;
    }

    /// <summary>An int64 initializer (shapes, axes, pads).</summary>
    public static TensorProto Int64Tensor(string name, params long[] values)
    {
        var proto = new TensorProto { Name = name, DataType = Int64Type };
        proto.Int64Data.AddRange(values);
        proto.Dims.Add(values.Length);
        return proto;
    }

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>A float tensor value description with named dynamic axes (<c>null</c> entries) or fixed sizes.</summary>
    public static ValueInfoProto TensorValue(string name, int elementType, IReadOnlyList<(long? Size, string? Param)> dims)
    {
        var shape = new TensorShapeProto();
        foreach (var (size, param) in dims)
        {
            shape.Dim.Add(size is long s
                ? new TensorShapeProto.Types.Dimension { DimValue = s }
                : new TensorShapeProto.Types.Dimension { DimParam = param ?? "?" });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }

    /// <summary>The values of a float, float16, double or int tensor proto as float32 (raw or typed storage).</summary>
    public static float[] ReadFloats(TensorProto t, string context)
    {
        long count = t.Dims.Aggregate(1L, (a, d) => a * d);
        float[] values = (TensorProto.Types.DataType)t.DataType switch
        {
            TensorProto.Types.DataType.Float when t.RawData.Length > 0 => Raw(t, 4, count, context, s => BitConverter.ToSingle(s)),
            TensorProto.Types.DataType.Float => [.. t.FloatData],
            TensorProto.Types.DataType.Float16 when t.RawData.Length > 0 => Raw(t, 2, count, context, s => (float)BitConverter.ToHalf(s)),
            TensorProto.Types.DataType.Float16 => [.. t.Int32Data.Select(bits => (float)BitConverter.UInt16BitsToHalf((ushort)bits))],
            TensorProto.Types.DataType.Double when t.RawData.Length > 0 => Raw(t, 8, count, context, s => (float)BitConverter.ToDouble(s)),
            TensorProto.Types.DataType.Double => [.. t.DoubleData.Select(d => (float)d)],
            TensorProto.Types.DataType.Int64 => [.. ReadInt64s(t, context).Select(v => (float)v)],
            TensorProto.Types.DataType.Int32 when t.RawData.Length > 0 => Raw(t, 4, count, context, s => BitConverter.ToInt32(s)),
            TensorProto.Types.DataType.Int32 => [.. t.Int32Data.Select(v => (float)v)],
            _ => throw new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator,
                $"{context}: tensor '{t.Name}' has data type {(TensorProto.Types.DataType)t.DataType}, which the importer does not read."),
        };
        if (values.Length != count)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel,
                $"{context}: tensor '{t.Name}' holds {values.Length} values but its dims [{string.Join(", ", t.Dims)}] need {count}.");
        return values;
    }

    /// <summary>The values of an int64 or int32 tensor proto.</summary>
    public static long[] ReadInt64s(TensorProto t, string context)
    {
        long count = t.Dims.Aggregate(1L, (a, d) => a * d);
        long[] values = (TensorProto.Types.DataType)t.DataType switch
        {
            TensorProto.Types.DataType.Int64 when t.RawData.Length > 0 => RawInts(t, 8, count, context),
            TensorProto.Types.DataType.Int64 => [.. t.Int64Data],
            TensorProto.Types.DataType.Int32 when t.RawData.Length > 0 => RawInts(t, 4, count, context),
            TensorProto.Types.DataType.Int32 => [.. t.Int32Data.Select(v => (long)v)],
            TensorProto.Types.DataType.Float => [.. ReadFloats(t, context).Select(f => (long)f)],
            _ => throw new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator,
                $"{context}: tensor '{t.Name}' has data type {(TensorProto.Types.DataType)t.DataType} where integers are expected."),
        };
        if (values.Length != count)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel,
                $"{context}: tensor '{t.Name}' holds {values.Length} values but its dims [{string.Join(", ", t.Dims)}] need {count}.");
        return values;
    }

    private static long[] RawInts(TensorProto t, int size, long count, string context)
    {
        var raw = t.RawData.Span;
        if (raw.Length != count * size)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel,
                $"{context}: tensor '{t.Name}' has {raw.Length} raw bytes but its dims [{string.Join(", ", t.Dims)}] need {count * size}.");
        var values = new long[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = size == 8 ? BitConverter.ToInt64(raw.Slice(i * 8, 8)) : BitConverter.ToInt32(raw.Slice(i * 4, 4));
        return values;
    }

    private static float[] Raw(TensorProto t, int size, long count, string context, Func<ReadOnlySpan<byte>, float> read)
    {
        var raw = t.RawData.Span;
        if (raw.Length != count * size)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel,
                $"{context}: tensor '{t.Name}' has {raw.Length} raw bytes but its dims [{string.Join(", ", t.Dims)}] need {count * size}.");
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = read(raw.Slice(i * size, size));
        return values;
    }
}

using Google.Protobuf;
using Onnx;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>
/// Turns a float32 model into its float16 variant for GPU serving: every float initializer is
/// stored as float16 and the graph computes in float16, while the input and output stay
/// float32 (a Cast after the input and one before the output), so callers do not change.
/// </summary>
internal static class OnnxFloat16
{
    public static ModelProto Convert(ModelProto model)
    {
        var result = model.Clone();
        var graph = result.Graph;
        foreach (var t in graph.Initializer.Where(t => t.DataType == OnnxProto.FloatType).ToArray())
        {
            float[] values = OnnxProto.ReadFloats(t, "float16 conversion");
            var bytes = new byte[values.Length * 2];
            for (int i = 0; i < values.Length; i++)
                BitConverter.TryWriteBytes(bytes.AsSpan(i * 2, 2), (Half)values[i]);
            t.FloatData.Clear();
            t.DataType = OnnxProto.Float16Type;
            t.RawData = ByteString.CopyFrom(bytes);
        }

        string input = graph.Input[0].Name;
        string output = graph.Output[0].Name;
        string inputHalf = input + ":fp16";
        string outputHalf = output + ":fp16";
        foreach (var node in graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == input)
                    node.Input[i] = inputHalf;
                else if (node.Input[i] == output)
                    node.Input[i] = outputHalf;
            }
            for (int i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i] == output)
                    node.Output[i] = outputHalf;
            }
        }
        var castIn = new NodeProto { OpType = "Cast", Name = "cast_input_to_fp16", Input = { input }, Output = { inputHalf } };
        castIn.Attribute.Add(OnnxProto.Int("to", OnnxProto.Float16Type));
        var castOut = new NodeProto { OpType = "Cast", Name = "cast_output_to_fp32", Input = { outputHalf }, Output = { output } };
        castOut.Attribute.Add(OnnxProto.Int("to", OnnxProto.FloatType));
        graph.Node.Insert(0, castIn);
        graph.Node.Add(castOut);
        graph.DocString = "float16 variant: float16 weights and compute, float32 input and output";
        return result;
    }
}

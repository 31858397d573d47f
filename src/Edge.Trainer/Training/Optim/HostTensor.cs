using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training.Optim;

/// <summary>
/// Raw access to the memory of CPU tensors, for the fused kernels. A kernel may treat tensors
/// as flat arrays only when they live on the CPU, are dense, and share one layout (the same
/// strides), which is what <see cref="SameDenseLayout"/> checks; anything else takes the
/// tensor-op path.
/// </summary>
internal static partial class HostTensor
{
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);

    /// <summary>Address of the first element (storage offset included).</summary>
    public static unsafe void* Data(Tensor t)
    {
        IntPtr p = THSTensor_data(t.Handle);
        if (p == IntPtr.Zero)
            throw new InvalidOperationException("The tensor has no data pointer.");
        return (void*)p;
    }

    /// <summary>True when every tensor is on the CPU, dense (no gaps or overlaps) and laid out like the first.</summary>
    public static bool SameDenseLayout(Tensor first, params ReadOnlySpan<Tensor> others)
    {
        if (first.device_type != DeviceType.CPU || !IsDense(first))
            return false;
        var shape = first.shape;
        var strides = first.stride();
        foreach (var t in others)
        {
            if (t.device_type != DeviceType.CPU || !shape.AsSpan().SequenceEqual(t.shape) || !strides.AsSpan().SequenceEqual(t.stride()))
                return false;
        }
        return true;
    }

    /// <summary>Dense: the strides are some ordering of a contiguous layout (row-major, channels-last, …).</summary>
    private static bool IsDense(Tensor t)
    {
        var shape = t.shape;
        var strides = t.stride();
        var order = Enumerable.Range(0, shape.Length).Where(i => shape[i] != 1).OrderBy(i => strides[i]).ToArray();
        long expected = 1;
        foreach (int i in order)
        {
            if (strides[i] != expected)
                return false;
            expected *= shape[i];
        }
        return true;
    }
}

using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeTL.Trainer.Training.Optim;

/// <summary>
/// Single-pass CPU kernels over flat float arrays. PyTorch's unfused AdamW walks a parameter's
/// memory about eight times per step (decay, two moment updates, square root, bias corrections,
/// the update); <see cref="AdamW"/> reads parameter, gradient and both moments once and writes
/// three of them once. The precision kernel moves the bf16/fp16 network's gradients into the fp32
/// masters in one pass, scaled, with the finite check folded in (libtorch takes a conversion, a
/// scale and a reduction). Weights go the other way by libtorch's own <c>copy_</c>, which is
/// vectorized and already one pass (<c>bench train --sections cache</c> times both).
/// </summary>
internal static unsafe class FusedKernels
{
    /// <summary>Elements below which a tensor is processed on the calling thread only.</summary>
    private const long ParallelThreshold = 1 << 16;

    /// <summary>Constants of one AdamW step.</summary>
    public readonly record struct AdamWStep(float Beta1, float Beta2, float Eps, float StepSize, float Decay, float InvSqrtBias2);

    /// <summary>AdamW (decoupled decay, bias-corrected, no amsgrad) on n contiguous elements.</summary>
    public static void AdamW(float* param, float* grad, float* avg, float* avgSq, long n, AdamWStep s)
    {
        Split(n, (start, count) => AdamWRange(param + start, grad + start, avg + start, avgSq + start, count, s));
    }

    private static void AdamWRange(float* p, float* g, float* m, float* v, long n, AdamWStep s)
    {
        long i = 0;
        int w = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated && n >= w)
        {
            var b1 = new Vector<float>(s.Beta1);
            var b2 = new Vector<float>(s.Beta2);
            var c1 = new Vector<float>(1 - s.Beta1);
            var c2 = new Vector<float>(1 - s.Beta2);
            var eps = new Vector<float>(s.Eps);
            var step = new Vector<float>(s.StepSize);
            var decay = new Vector<float>(s.Decay);
            var inv = new Vector<float>(s.InvSqrtBias2);
            for (; i <= n - w; i += w)
            {
                var gi = Unsafe.ReadUnaligned<Vector<float>>(g + i);
                var mi = (Unsafe.ReadUnaligned<Vector<float>>(m + i) * b1) + (gi * c1);
                var vi = (Unsafe.ReadUnaligned<Vector<float>>(v + i) * b2) + (gi * gi * c2);
                var pi = (Unsafe.ReadUnaligned<Vector<float>>(p + i) * decay) - (step * mi / ((Vector.SquareRoot(vi) * inv) + eps));
                Unsafe.WriteUnaligned(m + i, mi);
                Unsafe.WriteUnaligned(v + i, vi);
                Unsafe.WriteUnaligned(p + i, pi);
            }
        }
        for (; i < n; i++)
        {
            float gi = g[i];
            float mi = (m[i] * s.Beta1) + (gi * (1 - s.Beta1));
            float vi = (v[i] * s.Beta2) + (gi * gi * (1 - s.Beta2));
            m[i] = mi;
            v[i] = vi;
            p[i] = (p[i] * s.Decay) - (s.StepSize * mi / ((MathF.Sqrt(vi) * s.InvSqrtBias2) + s.Eps));
        }
    }

    /// <summary>
    /// dst = src × factor (or dst += src × factor), src in bf16/fp16/fp32. Returns false when any
    /// result is inf or NaN.
    /// </summary>
    public static bool WidenScaled(void* src, SourceType type, float* dst, long n, float factor, bool accumulate)
    {
        int bad = 0;
        Split(n, (start, count) =>
        {
            if (!WidenRange(src, type, start, dst + start, count, factor, accumulate))
                Interlocked.Exchange(ref bad, 1);
        });
        return bad == 0;
    }

    private static bool WidenRange(void* src, SourceType type, long start, float* d, long n, float factor, bool accumulate)
    {
        // x·0 is 0 for finite x and NaN for inf or NaN, so one running sum finds any non-finite value.
        float poison = 0;
        long i = 0;
        switch (type)
        {
            case SourceType.Float32:
                {
                    float* s = (float*)src + start;
                    i = WidenFloat32Vectors(s, d, n, factor, accumulate, out bool vectorsFinite);
                    poison += vectorsFinite ? 0 : float.NaN;
                    for (; i < n; i++)
                    {
                        float x = (s[i] * factor) + (accumulate ? d[i] : 0);
                        d[i] = x;
                        poison += x * 0;
                    }
                    break;
                }
            case SourceType.BFloat16:
                {
                    ushort* s = (ushort*)src + start;
                    i = WidenBFloat16Vectors(s, d, n, factor, accumulate, out bool vectorsFinite);
                    poison += vectorsFinite ? 0 : float.NaN;
                    for (; i < n; i++)
                    {
                        float x = (BitConverter.UInt32BitsToSingle((uint)s[i] << 16) * factor) + (accumulate ? d[i] : 0);
                        d[i] = x;
                        poison += x * 0;
                    }
                    break;
                }
            default:
                {
                    Half* s = (Half*)src + start;
                    for (; i < n; i++)
                    {
                        float x = ((float)s[i] * factor) + (accumulate ? d[i] : 0);
                        d[i] = x;
                        poison += x * 0;
                    }
                    break;
                }
        }
        return !float.IsNaN(poison);
    }

    /// <summary>The whole vectors of an fp32 widen; returns how many elements it did.</summary>
    private static long WidenFloat32Vectors(float* s, float* d, long n, float factor, bool accumulate, out bool finite)
    {
        finite = true;
        int w = Vector<float>.Count;
        if (!Vector.IsHardwareAccelerated || n < w)
            return 0;
        var f = new Vector<float>(factor);
        var poison = Vector<float>.Zero;
        long i = 0;
        for (; i <= n - w; i += w)
        {
            var x = Unsafe.ReadUnaligned<Vector<float>>(s + i) * f;
            if (accumulate)
                x += Unsafe.ReadUnaligned<Vector<float>>(d + i);
            Unsafe.WriteUnaligned(d + i, x);
            poison += x * Vector<float>.Zero;
        }
        finite = Vector.EqualsAll(poison, poison);   // NaN is the one value unequal to itself
        return i;
    }

    /// <summary>The whole vectors of a bf16 widen (bf16 is fp32's upper half: shift left 16); returns how many elements it did.</summary>
    private static long WidenBFloat16Vectors(ushort* s, float* d, long n, float factor, bool accumulate, out bool finite)
    {
        finite = true;
        int w = Vector<float>.Count;
        if (!Vector.IsHardwareAccelerated || n < 2 * w)
            return 0;
        var f = new Vector<float>(factor);
        var poison = Vector<float>.Zero;
        long i = 0;
        for (; i <= n - (2 * w); i += 2 * w)
        {
            Vector.Widen(Unsafe.ReadUnaligned<Vector<ushort>>(s + i), out Vector<uint> low, out Vector<uint> high);
            var a = Vector.AsVectorSingle(Vector.ShiftLeft(low, 16)) * f;
            var b = Vector.AsVectorSingle(Vector.ShiftLeft(high, 16)) * f;
            if (accumulate)
            {
                a += Unsafe.ReadUnaligned<Vector<float>>(d + i);
                b += Unsafe.ReadUnaligned<Vector<float>>(d + i + w);
            }
            Unsafe.WriteUnaligned(d + i, a);
            Unsafe.WriteUnaligned(d + i + w, b);
            poison += (a * Vector<float>.Zero) + (b * Vector<float>.Zero);
        }
        finite = Vector.EqualsAll(poison, poison);
        return i;
    }

    /// <summary>
    /// fp32 <paramref name="destination"/> = (or +=) <paramref name="source"/> × <paramref name="factor"/>
    /// in one pass; the result says whether every value is finite, or is null (nothing done) when
    /// the tensors cannot take the fused path.
    /// </summary>
    public static bool? TryWidenScaled(TorchSharp.torch.Tensor source, TorchSharp.torch.Tensor destination, float factor, bool accumulate)
    {
        if (destination.dtype != TorchSharp.torch.ScalarType.Float32 || TypeOf(source.dtype) is not { } type || !HostTensor.SameDenseLayout(source, destination))
            return null;
        return WidenScaled(HostTensor.Data(source), type, (float*)HostTensor.Data(destination), source.numel(), factor, accumulate);
    }

    private static SourceType? TypeOf(TorchSharp.torch.ScalarType type) => type switch
    {
        TorchSharp.torch.ScalarType.Float32 => SourceType.Float32,
        TorchSharp.torch.ScalarType.BFloat16 => SourceType.BFloat16,
        TorchSharp.torch.ScalarType.Float16 => SourceType.Float16,
        _ => null,
    };

    /// <summary>Runs <paramref name="body"/> over [0, n) in one chunk, or in one chunk per core for large n.</summary>
    private static void Split(long n, Action<long, long> body)
    {
        int parts = (int)Math.Min(Environment.ProcessorCount, Math.Max(1, n / ParallelThreshold));
        if (parts <= 1)
        {
            body(0, n);
            return;
        }
        long chunk = (n + parts - 1) / parts;
        Parallel.For(0, parts, k =>
        {
            long start = k * chunk;
            body(start, Math.Min(chunk, n - start));
        });
    }

    /// <summary>Element types the precision kernels read and write.</summary>
    public enum SourceType
    {
        /// <summary>IEEE single precision.</summary>
        Float32,
        /// <summary>bfloat16.</summary>
        BFloat16,
        /// <summary>IEEE half precision.</summary>
        Float16,
    }
}

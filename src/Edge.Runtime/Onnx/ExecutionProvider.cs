namespace EdgeTL.Runtime.Onnx;

/// <summary>Where ONNX Runtime runs a model.</summary>
public enum ExecutionProvider
{
    /// <summary>NVIDIA TensorRT (Jetson, data-centre GPUs): fastest, builds engines on first use.</summary>
    TensorRt,
    /// <summary>NVIDIA CUDA.</summary>
    Cuda,
    /// <summary>The CPU, always available.</summary>
    Cpu,
}

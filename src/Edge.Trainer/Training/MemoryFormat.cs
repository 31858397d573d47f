namespace EdgeTL.Trainer.Training;

/// <summary>How convolution weights (and so activations) are laid out in memory while training.</summary>
public enum MemoryFormat
{
    /// <summary>
    /// Channels-last for convolutional networks: on the CPU full fine-tuning steps of ResNet and
    /// MobileNet ran 1.1–1.45× faster than channels-first (bench/README.md), and it is what
    /// tensor cores want on CUDA. Channels-first where this libtorch gets channels-last
    /// convolutions wrong (<see cref="ChannelsLastCheck"/>).
    /// </summary>
    Auto,
    /// <summary>NCHW, PyTorch's default.</summary>
    ChannelsFirst,
    /// <summary>NHWC strides with NCHW shapes; oneDNN's preferred layout. Also falls back to channels-first where <see cref="ChannelsLastCheck"/> fails: the layout never changes results.</summary>
    ChannelsLast,
}

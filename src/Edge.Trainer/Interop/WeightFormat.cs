namespace EdgeTL.Trainer.Interop;

/// <summary>The weights-file formats <see cref="WeightFiles"/> tells apart by content (never by extension).</summary>
public enum WeightFormat
{
    /// <summary>
    /// <c>torch.save(model.state_dict(), path)</c> of PyTorch ≥ 1.6: a zip (it begins with the
    /// local-file magic <c>PK\x03\x04</c>) holding a pickled dict of tensors.
    /// </summary>
    PyTorch,

    /// <summary>safetensors: an 8-byte little-endian header length, then a JSON header (byte 8 is <c>{</c>).</summary>
    SafeTensors,

    /// <summary>
    /// TorchSharp's <c>Module.save</c>, as <see cref="Training.Checkpoint"/> and <c>pretrain</c> write it:
    /// a LEB128 tensor count, then per tensor a UTF-8 name, dtype code, rank, dimensions and raw data.
    /// It has no magic number; it is recognised by a well-formed first entry.
    /// </summary>
    TorchSharp,
}

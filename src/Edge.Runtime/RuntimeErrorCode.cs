namespace EdgeTL.Runtime;

/// <summary>What went wrong, for callers that branch on the failure rather than the message.</summary>
public enum RuntimeErrorCode
{
    /// <summary>A data file is truncated, has a wrong magic number or inconsistent dimensions.</summary>
    CorruptDataFile,
    /// <summary>A data file or folder does not exist.</summary>
    DataNotFound,
    /// <summary>A dataset, subset or batch has no samples.</summary>
    EmptyDataset,
    /// <summary>An image has a size or channel count the pipeline cannot use.</summary>
    InvalidImageShape,
    /// <summary>A label lies outside [0, classCount).</summary>
    LabelOutOfRange,
    /// <summary>An image could not be decoded.</summary>
    UndecodableImage,
    /// <summary>An argument is outside its documented range.</summary>
    InvalidArgument,
    /// <summary>An ONNX model is corrupt, truncated, or uses what ONNX Runtime cannot run.</summary>
    InvalidModel,
    /// <summary>A tensor passed to a model has the wrong shape.</summary>
    InvalidInputShape,
    /// <summary>A model package failed verification (see <c>PackageRejectedException.Reason</c>).</summary>
    PackageRejected,
    /// <summary>A key file is missing or not an ECDSA P-256 key.</summary>
    InvalidKey,
}

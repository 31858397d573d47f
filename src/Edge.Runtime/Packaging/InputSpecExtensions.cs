using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Runtime.Packaging;

/// <summary>Turns a manifest's input spec into the preprocessing pipeline that feeds the model.</summary>
public static class InputSpecExtensions
{
    /// <summary>Pipeline options from the manifest: size, channels, channel order, centre crop, mean/std.</summary>
    public static ImagePipelineOptions ToPipelineOptions(this InputSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = spec.Problems().ToList();
        if (problems.Count > 0)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, "Input spec: " + string.Join("; ", problems));
        return new ImagePipelineOptions
        {
            InputSize = spec.Size,
            Channels = spec.Channels,
            Bgr = spec.ChannelOrder == "BGR",
            CenterCropFraction = spec.CenterCropFraction,
            Normalization = new Normalization([.. spec.Mean], [.. spec.Std]),
        };
    }

    /// <summary>The pipeline itself.</summary>
    public static ImagePipeline ToPipeline(this InputSpec spec) => new(spec.ToPipelineOptions());
}

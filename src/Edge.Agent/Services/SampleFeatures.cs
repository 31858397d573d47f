using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Agent.Services;

/// <summary>
/// Samples as learning reads them: backbone features of images (served ONNX), labelled feature
/// sets with the device's classes, and preprocessed pixels for backbone training.
/// </summary>
public sealed class SampleFeatures
{
    private const int Batch = 64;
    private readonly ModelServing _serving;

    /// <summary>Reads samples through what <paramref name="serving"/> serves.</summary>
    public SampleFeatures(ModelServing serving) => _serving = serving;

    /// <summary>Features of <paramref name="images"/>; an undecodable image is an invalid argument.</summary>
    public float[] ExtractOrRefuse(IReadOnlyList<byte[]> images)
    {
        try
        {
            return _serving.Server.Extract(images);
        }
        catch (Runtime.EdgeRuntimeException e) when (e.Code == Runtime.RuntimeErrorCode.UndecodableImage)
        {
            throw new InvalidCommandArgumentsException($"args.image is not a decodable image: {e.Message}");
        }
    }

    /// <summary>Features of <paramref name="images"/>, extracted in batches.</summary>
    public float[] ExtractInBatches(List<byte[]> images, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        var all = new List<float>();
        for (int start = 0; start < images.Count; start += Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            all.AddRange(_serving.Server.Extract([.. images.Skip(start).Take(Batch)]));
        }
        return [.. all];
    }

    /// <summary>Features of labelled samples, with labels as indices into the device's classes.</summary>
    public LabelledFeatures LabelledFeaturesOf(IReadOnlyList<SampleRecord> samples, CancellationToken cancellationToken)
    {
        var (classes, usable) = Usable(samples, 1, "There are no labelled samples of the device's classes.");
        var features = ExtractInBatches(usable.Select(s => s.Image).ToList(), cancellationToken);
        return Labelled(features, features.Length / usable.Count, classes, usable);
    }

    /// <summary>Preprocessed images [Count × 3·S·S] of the labelled samples of the device's classes, as the served model's manifest prepares them.</summary>
    public LabelledFeatures LabelledPixelsOf(IReadOnlyList<SampleRecord> samples, InputSpec input)
    {
        var (classes, usable) = Usable(samples, 2, "A backbone fine-tune needs at least 2 labelled samples of the device's classes.");
        var pixels = PixelsOf(usable, input);
        return Labelled(pixels, pixels.Length / usable.Count, classes, usable);
    }

    /// <summary>Preprocessed images [Count × C·S·S] of <paramref name="samples"/>, as the served model's manifest prepares them.</summary>
    public static float[] PixelsOf(IReadOnlyList<SampleRecord> samples, InputSpec input)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(input);
        var pipeline = input.ToPipeline();
        var decoder = new ImageDecoder();
        int length = pipeline.SampleLength;
        var pixels = new float[samples.Count * length];
        for (int i = 0; i < samples.Count; i++)
        {
            var (rgb, height, width) = decoder.Decode(samples[i].Image);
            pipeline.Process(rgb.Span, height, width, 3, pixels.AsSpan(i * length, length), null);
        }
        return pixels;
    }

    /// <summary>A served prediction as the protocol reports it.</summary>
    public static Prediction ToWire(ServedPrediction p) => new(p.Label, p.ClassIndex, p.Confidence, p.Model, p.HeadId);

    private (IReadOnlyList<string> Classes, List<SampleRecord> Usable) Usable(IReadOnlyList<SampleRecord> samples, int minimum, string tooFew)
    {
        var classes = _serving.Classes ?? throw new AgentException(AgentErrorCode.NoModel, "No model is deployed yet: send 'deploy' first.");
        var usable = samples.Where(s => s.Label is not null && classes.Contains(s.Label)).ToList();
        if (usable.Count < minimum)
            throw new AgentException(AgentErrorCode.NotEnoughData, tooFew);
        return (classes, usable);
    }

    private static LabelledFeatures Labelled(float[] rows, int dim, IReadOnlyList<string> classes, List<SampleRecord> usable)
    {
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        return new LabelledFeatures(rows, [.. usable.Select(s => index[s.Label!])], dim, classes, [.. usable.Select(s => s.Id)]);
    }
}

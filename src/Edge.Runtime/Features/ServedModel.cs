using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Runtime.Features;

/// <summary>
/// An installed package opened for serving: backbone session (fp16 on a GPU when the package
/// has it), the extractor with the manifest's preprocessing, and the predictor when the
/// package carries a head.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private ServedModel(InstalledModel installed, OnnxModel backbone, OnnxModel? head)
    {
        Installed = installed;
        Backbone = backbone;
        Head = head;
        Features = new FeatureExtractor(backbone, installed.Manifest.Input.ToPipeline());
        Predictor = head is null ? null : new Predictor(Features, head, installed.Manifest.Labels);
    }

    /// <summary>The installed package.</summary>
    public InstalledModel Installed { get; }

    /// <summary>The backbone session.</summary>
    public OnnxModel Backbone { get; }

    /// <summary>The head session, when the package has one.</summary>
    public OnnxModel? Head { get; }

    /// <summary>Feature extraction with the manifest's preprocessing.</summary>
    public FeatureExtractor Features { get; }

    /// <summary>Backbone plus head, when the package has a head.</summary>
    public Predictor? Predictor { get; }

    /// <summary>Opens <paramref name="installed"/> with the session preferences of this device.</summary>
    public static ServedModel Open(InstalledModel installed, SessionOptionsSpec? spec = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(installed);
        string backbonePath = installed.PathOf(PackageFileRoles.Backbone)
            ?? throw new EdgeRuntimeException(RuntimeErrorCode.InvalidModel, "The package has no backbone.");
        var backbone = OnnxSessionFactory.Open(backbonePath, installed.PathOf(PackageFileRoles.BackboneFloat16), spec, logger);
        OnnxModel? head = null;
        if (installed.PathOf(PackageFileRoles.Head) is string headPath)
            head = OnnxSessionFactory.Open(headPath, null, (spec ?? new SessionOptionsSpec()) with { WarmupRuns = 0 }, logger);
        return new ServedModel(installed, backbone, head);
    }

    /// <summary>The golden-input health check on this device's sessions.</summary>
    public GoldenResult CheckHealth() => GoldenCheck.Run(Installed, Backbone);

    /// <inheritdoc />
    public void Dispose()
    {
        Backbone.Dispose();
        Head?.Dispose();
    }
}

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
    private ServedModel(InstalledModel installed, OnnxModel backbone, OnnxModel? head, bool int8)
    {
        IsInt8 = int8;
        Installed = installed;
        Backbone = backbone;
        Head = head;
        Features = new FeatureExtractor(backbone, installed.Manifest.Input.ToPipeline());
        Predictor = head is null ? null : new Predictor(Features, head, installed.Manifest.Labels);
    }

    /// <summary>The installed package.</summary>
    public InstalledModel Installed { get; }

    /// <summary>True when the backbone is the package's int8 one (<see cref="OpenInt8"/>).</summary>
    public bool IsInt8 { get; }

    /// <summary>The backbone's precision as it serves: <c>int8</c>, <c>fp16</c> (a GPU with the fp16 variant) or <c>fp32</c>.</summary>
    public string Precision => IsInt8 ? "int8" : Backbone.Provider != ExecutionProvider.Cpu && Installed.PathOf(PackageFileRoles.BackboneFloat16) is not null ? "fp16" : "fp32";

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
        return new ServedModel(installed, backbone, head, int8: false);
    }

    /// <summary>
    /// Opens the package's int8 backbone (<see cref="PackageFileRoles.BackboneInt8"/>) on the CPU provider, where ONNX Runtime
    /// fuses its QDQ pairs into integer kernels, with the package's head; <see cref="CheckHealth"/> then compares against the
    /// int8 golden features.
    /// </summary>
    /// <exception cref="EdgeRuntimeException"><see cref="RuntimeErrorCode.InvalidModel"/> when the package has no int8 backbone or it cannot be opened.</exception>
    public static ServedModel OpenInt8(InstalledModel installed, SessionOptionsSpec? spec = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(installed);
        string int8Path = installed.PathOf(PackageFileRoles.BackboneInt8) is { } path && installed.Manifest.Quantized is not null
            ? path
            : throw new EdgeRuntimeException(RuntimeErrorCode.InvalidModel, $"The package {installed.Manifest.Name} {installed.Manifest.Version} has no int8 backbone.");
        var cpu = (spec ?? new SessionOptionsSpec()) with { Providers = [ExecutionProvider.Cpu] };
        var backbone = OnnxSessionFactory.Open(int8Path, null, cpu, logger);
        OnnxModel? head = null;
        try
        {
            if (installed.PathOf(PackageFileRoles.Head) is string headPath)
                head = OnnxSessionFactory.Open(headPath, null, cpu with { WarmupRuns = 0 }, logger);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
        return new ServedModel(installed, backbone, head, int8: true);
    }

    /// <summary>The golden-input health check on this device's sessions (the int8 golden features for an int8 backbone).</summary>
    public GoldenResult CheckHealth() => GoldenCheck.Run(Installed, Backbone, IsInt8);

    /// <inheritdoc />
    public void Dispose()
    {
        Backbone.Dispose();
        Head?.Dispose();
    }
}

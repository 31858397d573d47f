using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Cloud;

/// <summary>
/// A signed package as a device holds it, for the verbs that score one (<c>evaluate</c>, <c>quantize</c>): verified and
/// installed into a temporary store (a refusal is a <see cref="PackageRejectedException"/>, exit 5), its sessions open,
/// its classifier head required. Disposing closes the sessions and deletes the store.
/// </summary>
internal sealed class ScoredPackage : IDisposable
{
    private readonly string _store;

    private ScoredPackage(string store, InstalledModel installed, ServedModel served, Predictor predictor)
    {
        _store = store;
        Installed = installed;
        Served = served;
        Predictor = predictor;
    }

    /// <summary>The installed package: its manifest and files.</summary>
    public InstalledModel Installed { get; }

    /// <summary>Its ONNX Runtime sessions, as a device opens them.</summary>
    public ServedModel Served { get; }

    /// <summary>Backbone and head together: the device's predictions.</summary>
    public Predictor Predictor { get; }

    /// <summary>Verifies <paramref name="package"/> against the keys at <paramref name="trusted"/> and installs it; <paramref name="verb"/> names the caller in errors.</summary>
    public static ScoredPackage Open(string package, string trusted, string verb)
    {
        string store = Directory.CreateTempSubdirectory($"edgetl-{verb}-").FullName;
        try
        {
            InstalledModel installed;
            using (var keys = VerifyCommand.LoadTrusted(trusted))
                installed = new ModelStore(store, keys).Install(package);
            var served = ServedModel.Open(installed);
            if (served.Predictor is not { } predictor)
            {
                served.Dispose();
                throw CloudCliException.InvalidArguments(
                    $"The package '{package}' has no classifier head: {verb} scores predictions, which need one (a backbone-only package gets its head on the device).");
            }
            return new ScoredPackage(store, installed, served, predictor);
        }
        catch
        {
            Directory.Delete(store, recursive: true);
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Served.Dispose();
        Directory.Delete(_store, recursive: true);
    }
}

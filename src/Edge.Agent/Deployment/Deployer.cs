using EdgeTL.Runtime;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Deployment;

/// <summary>
/// Deploys model packages A/B-style: fetch → verify and install (the store switches its
/// <c>current</c> pointer atomically) → open → health gate → promote, or roll the store back to
/// the previous model automatically (<see cref="ModelStore.Revert"/>: the failed version is deleted
/// and can never be rolled back to) and report why (RELIABILITY R5, R6).
/// </summary>
/// <remarks>
/// Deployments and rollbacks are serialized; the fetch runs outside that section. The caller owns
/// every <see cref="ServedModel"/> it receives, and swaps it in for the one it serves.
/// </remarks>
public sealed partial class Deployer
{
    private readonly ModelStore _store;
    private readonly PackageFetcher _fetcher;
    private readonly HealthGate _gate;
    private readonly ILogger<Deployer> _logger;
    private readonly SessionOptionsSpec? _sessions;
    private readonly TimeProvider _time;
    private readonly Lock _sync = new();

    /// <summary>Creates a deployer over a store.</summary>
    /// <param name="store">The models on this device.</param>
    /// <param name="fetcher">Brings packages onto the device.</param>
    /// <param name="gate">The health gate a new model must pass.</param>
    /// <param name="logger">Structured log of every outcome.</param>
    /// <param name="sessions">ONNX Runtime session preferences for opened models; the runtime's defaults when null.</param>
    /// <param name="timeProvider">Clock for <see cref="DeploymentOutcome.Elapsed"/>; <see cref="TimeProvider.System"/> when null.</param>
    public Deployer(ModelStore store, PackageFetcher fetcher, HealthGate gate, ILogger<Deployer> logger, SessionOptionsSpec? sessions = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(fetcher);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(logger);
        _store = store;
        _fetcher = fetcher;
        _gate = gate;
        _logger = logger;
        _sessions = sessions;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Fetches, installs and gates the package at <paramref name="source"/>. Expected failures are
    /// outcomes, not exceptions: a fetch error or full disk is <see cref="DeploymentStatus.Failed"/>,
    /// a refused package <see cref="DeploymentStatus.Rejected"/> (both leave the store as it was), and
    /// a model that fails to open or fails the gate is rolled back (<see cref="DeploymentStatus.RolledBack"/>).
    /// </summary>
    public async Task<DeploymentOutcome> DeployAsync(Uri source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        long start = _time.GetTimestamp();
        string package;
        try
        {
            package = await _fetcher.FetchAsync(source, cancellationToken).ConfigureAwait(false);
        }
        catch (AgentException e) when (e.Code is AgentErrorCode.FetchFailed or AgentErrorCode.StorageFull)
        {
            return Unchanged(DeploymentStatus.Failed, e.Message, start, e.Code);
        }
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            lock (_sync)
                return InstallAndGate(source, package, start);
        }
        finally
        {
            if (!source.IsFile && IsDownload(package))
                TryDelete(package);
        }
    }

    /// <summary>An operator's rollback: makes the previous model current again and opens it.</summary>
    /// <returns><see cref="DeploymentStatus.RolledBack"/> with the opened model, or <see cref="DeploymentStatus.Failed"/> when there is no previous model.</returns>
    public DeploymentOutcome RollBack()
    {
        long start = _time.GetTimestamp();
        lock (_sync)
        {
            string from = Describe(_store.Current);
            var previous = _store.RollBack();
            if (previous is null)
                return Unchanged(DeploymentStatus.Failed, $"There is no previous model to roll back to (current: {from}).", start);
            var served = ServedModel.Open(previous, _sessions, _logger);
            string reason = $"Rolled back by the operator from {from} to {Describe(previous)}.";
            LogOutcome(_logger, DeploymentStatus.RolledBack, previous.Manifest.Version, previous.Manifest.Counter, reason);
            return new DeploymentOutcome(DeploymentStatus.RolledBack, reason, previous.Manifest.Version, previous.Manifest.Counter, served, null, _time.GetElapsedTime(start));
        }
    }

    /// <summary>
    /// Installs a version made on the device from the current model (<see cref="ModelStore.InstallLocal"/>)
    /// and opens it; the parent becomes the previous model, so <see cref="RollBack"/> returns to it.
    /// Serialized with deployments and rollbacks; refused (<see cref="AgentErrorCode.ModelChanged"/>) when
    /// <paramref name="parent"/> is no longer current. When it cannot be opened, the store goes back to the parent.
    /// <paramref name="quantized"/> describes a re-quantized int8 backbone among <paramref name="replaced"/>.
    /// </summary>
    public ServedModel InstallLocal(InstalledModel parent, IReadOnlyDictionary<string, string> replaced, IReadOnlyCollection<string> dropped, string version, DeviceOrigin origin,
        IReadOnlyList<string>? labels = null, Int8Backbone? quantized = null)
    {
        lock (_sync)
        {
            if (!string.Equals(_store.Current?.Directory, parent.Directory, StringComparison.Ordinal))
                throw new AgentException(AgentErrorCode.ModelChanged,
                    $"The served model changed while {Describe(parent)} was being tuned (now {Describe(_store.Current)}); the tuned version was not installed.");
            var installed = _store.InstallLocal(parent, replaced, dropped, version, origin, labels, quantized);
            try
            {
                var served = ServedModel.Open(installed, _sessions, _logger);
                string reason = $"Device-made version of {Describe(parent)} ({origin.Mode}, job {origin.Job}).";
                LogOutcome(_logger, DeploymentStatus.Promoted, installed.Manifest.Version, installed.Manifest.Counter, reason);
                return served;
            }
            catch (EdgeRuntimeException)
            {
                _store.Revert();
                throw;
            }
        }
    }

    /// <summary>Whether <paramref name="installed"/> is the store's current version.</summary>
    public bool IsCurrent(InstalledModel installed)
    {
        ArgumentNullException.ThrowIfNull(installed);
        lock (_sync)
            return string.Equals(_store.Current?.Directory, installed.Directory, StringComparison.Ordinal);
    }

    /// <summary>
    /// Opens the current model at startup after checking its files against its manifest (a damaged
    /// model falls back to the previous one); null before the first deployment.
    /// </summary>
    public ServedModel? OpenCurrent()
    {
        lock (_sync)
        {
            var current = _store.OpenVerified(out string? repair);
            if (repair is not null)
                LogRepair(_logger, repair);
            return current is null ? null : ServedModel.Open(current, _sessions, _logger);
        }
    }

    private DeploymentOutcome InstallAndGate(Uri source, string package, long start)
    {
        InstalledModel installed;
        try
        {
            installed = _store.Install(package);
        }
        catch (PackageRejectedException e)
        {
            return Unchanged(DeploymentStatus.Rejected, $"{source}: {e.Message}", start, AgentErrorCode.PackageRejected);
        }
        catch (IOException e) when (e.HResult == 28)
        {
            return Unchanged(DeploymentStatus.Failed, $"{source}: the disk is full; the package was not installed ({e.Message}).", start, AgentErrorCode.StorageFull);
        }

        ServedModel? candidate = null;
        HealthReport health;
        try
        {
            candidate = ServedModel.Open(installed, _sessions, _logger);
            health = _gate.Check(candidate);
        }
        catch (EdgeRuntimeException e)
        {
            health = new HealthReport(false, $"the model could not be opened or run: {e.Message}", double.PositiveInfinity, double.NaN);
        }
        if (health.Passed)
        {
            string promoted = $"{Describe(installed)} passed the health gate: {health.Reason}.";
            LogOutcome(_logger, DeploymentStatus.Promoted, installed.Manifest.Version, installed.Manifest.Counter, promoted);
            return new DeploymentOutcome(DeploymentStatus.Promoted, promoted, installed.Manifest.Version, installed.Manifest.Counter, candidate, health, _time.GetElapsedTime(start));
        }

        candidate?.Dispose();
        var previous = _store.Revert();
        string reason = $"{Describe(installed)} failed the health gate: {health.Reason}; "
            + (previous is null ? "there is no previous model, so none is served." : $"rolled back to {Describe(previous)}.");
        LogOutcome(_logger, DeploymentStatus.RolledBack, previous?.Manifest.Version, previous?.Manifest.Counter ?? 0, reason);
        var served = previous is null ? null : ServedModel.Open(previous, _sessions, _logger);
        return new DeploymentOutcome(DeploymentStatus.RolledBack, reason, previous?.Manifest.Version, previous?.Manifest.Counter ?? 0, served, health, _time.GetElapsedTime(start))
        {
            Code = AgentErrorCode.HealthGateFailed,
        };
    }

    private DeploymentOutcome Unchanged(DeploymentStatus status, string reason, long start, AgentErrorCode? code = null)
    {
        var current = _store.Current;
        LogOutcome(_logger, status, current?.Manifest.Version, current?.Manifest.Counter ?? 0, reason);
        return new DeploymentOutcome(status, reason, current?.Manifest.Version, current?.Manifest.Counter ?? 0, null, null, _time.GetElapsedTime(start)) { Code = code };
    }

    private bool IsDownload(string path) =>
        string.Equals(Path.GetDirectoryName(Path.GetFullPath(path)), _fetcher.DownloadDirectory, StringComparison.Ordinal);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover download is overwritten by the next fetch of the same name.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }

    private static string Describe(InstalledModel? model) =>
        model is null ? "no model" : $"{model.Manifest.Name} {model.Manifest.Version} (counter {model.Manifest.Counter})";

    [LoggerMessage(EventId = 3001, EventName = "ModelIntegrityRepaired", Level = LogLevel.Error, Message = "The installed model failed its integrity check at start: {Repair}")]
    private static partial void LogRepair(ILogger logger, string repair);

    [LoggerMessage(EventId = 3002, EventName = "DeploymentFinished", Level = LogLevel.Information, Message = "Deployment {Status}: now serving {Version} (counter {Counter}). {Reason}")]
    private static partial void LogOutcome(ILogger logger, DeploymentStatus status, string? version, long counter, string reason);
}

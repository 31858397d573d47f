using System.Globalization;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Agent.Deployment;

/// <summary>
/// The gate a model passes before it serves (Mender/Greengrass-style health check): its golden
/// inputs must give the golden features within the package's tolerance on this device's sessions
/// (<see cref="ServedModel.CheckHealth"/>), and the median backbone latency per golden image over
/// <see cref="HealthGateOptions.Runs"/> passes must be within <see cref="HealthGateOptions.LatencyBudget"/>.
/// </summary>
public sealed class HealthGate
{
    private readonly TimeProvider _time;

    /// <summary>Creates a gate.</summary>
    /// <param name="options">Budget and runs; defaults when null.</param>
    /// <param name="timeProvider">Clock for the latency measurement; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="AgentException"><see cref="AgentErrorCode.InvalidConfiguration"/> when the options are out of range.</exception>
    public HealthGate(HealthGateOptions? options = null, TimeProvider? timeProvider = null)
    {
        Options = options ?? new HealthGateOptions();
        var problems = Options.Problems().ToList();
        if (problems.Count > 0)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, "Health gate options: " + string.Join("; ", problems) + ".");
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The gate's budget and runs.</summary>
    public HealthGateOptions Options { get; }

    /// <summary>Checks <paramref name="model"/>; never throws for an unhealthy model, the report says why.</summary>
    public HealthReport Check(ServedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var installed = model.Installed;
        var golden = installed.Manifest.Golden;
        string? inputsPath = installed.PathOf(PackageFileRoles.GoldenInputs);
        if (golden is null || golden.Count < 1 || inputsPath is null || installed.PathOf(PackageFileRoles.GoldenOutputs) is null)
        {
            return new HealthReport(false,
                $"the package {installed.Manifest.Name} {installed.Manifest.Version} has no golden set (golden inputs and outputs are required for the health check)",
                double.PositiveInfinity, double.NaN);
        }

        var result = model.CheckHealth();
        double latency = MedianLatencyMs(model, installed, golden.Count, inputsPath);
        double budget = Options.LatencyBudget.TotalMilliseconds;
        var failures = new List<string>();
        if (!result.Passed)
            failures.Add(Invariant($"golden outputs do not match: max |Δ| {result.MaxAbsDifference:G4} > tolerance {result.Tolerance:G4} over {golden.Count} inputs"));
        if (!(latency <= budget))
            failures.Add(Invariant($"latency {latency:F3} ms per image (median of {Options.Runs} runs) > budget {budget:F3} ms"));
        string reason = failures.Count > 0
            ? string.Join("; ", failures)
            : Invariant($"golden max |Δ| {result.MaxAbsDifference:G4} ≤ {result.Tolerance:G4} over {golden.Count} inputs; latency {latency:F3} ms per image ≤ {budget:F3} ms");
        return new HealthReport(failures.Count == 0, reason, result.MaxAbsDifference, latency);
    }

    private double MedianLatencyMs(ServedModel model, InstalledModel installed, int count, string inputsPath)
    {
        float[] inputs = GoldenCheck.ReadFloats(inputsPath);
        var spec = installed.Manifest.Input;
        int perSample = spec.Channels * spec.Size * spec.Size;
        if (perSample * count != inputs.Length)
            return double.NaN;
        var backbone = model.Backbone;
        bool fixedBatch = backbone.InputShape.Count > 0 && backbone.InputShape[0] == 1;
        int batch = fixedBatch ? 1 : count;
        var perImage = new double[Options.Runs];
        for (int run = 0; run < Options.Runs; run++)
        {
            long start = _time.GetTimestamp();
            for (int first = 0; first < count; first += batch)
                backbone.Run(inputs.AsMemory(first * perSample, batch * perSample), [batch, spec.Channels, spec.Size, spec.Size]);
            perImage[run] = _time.GetElapsedTime(start).TotalMilliseconds / count;
        }
        Array.Sort(perImage);
        int mid = perImage.Length / 2;
        return perImage.Length % 2 == 1 ? perImage[mid] : (perImage[mid - 1] + perImage[mid]) / 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

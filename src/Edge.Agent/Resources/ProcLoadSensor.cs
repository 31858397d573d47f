using System.Globalization;

namespace EdgeTL.Agent.Resources;

/// <summary>
/// Reads <c>/proc/loadavg</c> (<c>"0.52 0.58 0.59 1/467 12345"</c>: the 1-, 5- and 15-minute load
/// averages, then runnable/total tasks and the last pid) and divides the 1-minute average by the core count.
/// </summary>
public sealed class ProcLoadSensor : ILoadSensor
{
    /// <summary>Creates a reader of <paramref name="path"/>.</summary>
    /// <param name="path">The loadavg file; <c>/proc/loadavg</c> by default.</param>
    /// <param name="cores">Number of cores to divide by; <see cref="Environment.ProcessorCount"/> when null.</param>
    public ProcLoadSensor(string path = "/proc/loadavg", int? cores = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (cores is < 1)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, $"The core count must be at least 1, got {cores}.");
        Path = path;
        Cores = cores ?? Environment.ProcessorCount;
    }

    /// <summary>The loadavg file read.</summary>
    public string Path { get; }

    /// <summary>The core count the load is divided by.</summary>
    public int Cores { get; }

    /// <inheritdoc/>
    public bool TryReadLoadPerCore(out double load)
    {
        load = 0;
        if (!SysfsFiles.TryReadText(Path, out var text))
            return false;
        var fields = text.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length == 0
            || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double oneMinute)
            || !double.IsFinite(oneMinute) || oneMinute < 0)
            return false;
        load = oneMinute / Cores;
        return true;
    }
}

namespace EdgeTL.Agent.Resources;

/// <summary>Reads how busy the CPU is.</summary>
public interface ILoadSensor
{
    /// <summary>
    /// Reads the 1-minute load average divided by the number of cores (1.0 = every core busy);
    /// false when no reading is available. Never throws for a failed read.
    /// </summary>
    bool TryReadLoadPerCore(out double load);
}

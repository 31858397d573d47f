namespace EdgeTL.Agent.Resources;

/// <summary>
/// Reads Linux thermal zones: every <c>thermal_zone*/temp</c> under the root holds a temperature
/// in millidegrees Celsius (e.g. <c>45500</c> = 45.5 °C); the hottest zone is reported.
/// Zones that cannot be read or parsed are skipped.
/// </summary>
public sealed class SysfsThermalSensor : IThermalSensor
{
    /// <summary>Creates a reader over <paramref name="root"/> (the sysfs thermal class folder).</summary>
    /// <param name="root">Folder holding <c>thermal_zone*</c> folders; <c>/sys/class/thermal</c> by default.</param>
    public SysfsThermalSensor(string root = "/sys/class/thermal")
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = root;
    }

    /// <summary>The folder that holds the thermal zones.</summary>
    public string Root { get; }

    /// <inheritdoc/>
    public bool TryReadMaxCelsius(out double celsius)
    {
        celsius = 0;
        bool any = false;
        foreach (var zone in SysfsFiles.Directories(Root, "thermal_zone*"))
        {
            if (!SysfsFiles.TryReadDouble(Path.Combine(zone, "temp"), out double milli))
                continue;
            double value = milli / 1000.0;
            if (!any || value > celsius)
                celsius = value;
            any = true;
        }
        return any;
    }
}

using System.Globalization;

namespace EdgeTL.Agent.Resources;

/// <summary>
/// Reads power from Linux hwmon devices (every <c>hwmon*</c> folder under the root) and sums it:
/// a device's <c>power*_input</c> files (microwatts) when it has any, else its <c>in{N}_input</c>
/// (millivolts) × <c>curr{N}_input</c> (milliamperes) pairs with the same N — which is how Jetson's
/// on-board INA3221 (driver <c>ina3221</c>) appears. Attributes are looked for in the device folder,
/// then in its <c>device/</c> sub-folder (older kernels). Unreadable files are skipped.
/// </summary>
/// <remarks>
/// On Jetson the INA3221 channels may overlap (e.g. Orin's <c>VDD_IN</c> is the total input and the
/// other channels are rails inside it), so the sum is an upper bound there; set the limit accordingly.
/// </remarks>
public sealed class HwmonPowerSensor : IPowerSensor
{
    /// <summary>Creates a reader over <paramref name="root"/> (the sysfs hwmon class folder).</summary>
    /// <param name="root">Folder holding <c>hwmon*</c> folders; <c>/sys/class/hwmon</c> by default.</param>
    public HwmonPowerSensor(string root = "/sys/class/hwmon")
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = root;
    }

    /// <summary>The folder that holds the hwmon devices.</summary>
    public string Root { get; }

    /// <inheritdoc/>
    public bool TryReadWatts(out double watts)
    {
        watts = 0;
        bool any = false;
        foreach (var device in SysfsFiles.Directories(Root, "hwmon*"))
        {
            if (TryReadDevice(device, out double w) || TryReadDevice(Path.Combine(device, "device"), out w))
            {
                watts += w;
                any = true;
            }
        }
        return any;
    }

    private static bool TryReadDevice(string folder, out double watts)
    {
        watts = 0;
        bool any = false;
        foreach (var file in SysfsFiles.Files(folder, "power*_input"))
        {
            if (SysfsFiles.TryReadDouble(file, out double microwatts))
            {
                watts += microwatts / 1e6;
                any = true;
            }
        }
        if (any)
            return true;
        foreach (var current in SysfsFiles.Files(folder, "curr*_input"))
        {
            var name = Path.GetFileName(current);
            var index = name["curr".Length..^"_input".Length];
            if (index.Length == 0 || !int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                continue;
            if (SysfsFiles.TryReadDouble(current, out double milliamps)
                && SysfsFiles.TryReadDouble(Path.Combine(folder, $"in{index}_input"), out double millivolts))
            {
                watts += millivolts * milliamps / 1e6;
                any = true;
            }
        }
        return any;
    }
}

using System.Globalization;

namespace EdgeTL.Agent.Resources;

/// <summary>
/// Decides whether the device is cool and idle enough to train now. A reading over its limit
/// blocks, with a reason naming the reading and the limit; a sensor that cannot be read does not
/// block (the reason says it was "not readable"), so a device without sensors can still train.
/// </summary>
public sealed class ResourceGate
{
    private readonly IThermalSensor _thermal;
    private readonly ILoadSensor _load;
    private readonly IPowerSensor? _power;

    /// <summary>Creates a gate over the given sensors.</summary>
    /// <param name="thermal">Temperature source.</param>
    /// <param name="load">CPU load source.</param>
    /// <param name="power">Power source; null when the device has no power monitor.</param>
    /// <param name="options">The limits; validated here.</param>
    /// <exception cref="AgentException"><see cref="AgentErrorCode.InvalidConfiguration"/> for bad limits.</exception>
    public ResourceGate(IThermalSensor thermal, ILoadSensor load, IPowerSensor? power, ResourceGateOptions options)
    {
        ArgumentNullException.ThrowIfNull(thermal);
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _thermal = thermal;
        _load = load;
        _power = power;
        Options = options;
    }

    /// <summary>The limits in force.</summary>
    public ResourceGateOptions Options { get; }

    /// <summary>Reads every sensor once and decides.</summary>
    public ResourceVerdict Check()
    {
        var over = new List<string>();
        var notes = new List<string>();

        double? temperature = _thermal.TryReadMaxCelsius(out double t) && double.IsFinite(t) ? t : null;
        Judge("temperature", temperature, Options.MaxTemperatureC, "°C", "F1", over, notes);

        double? load = _load.TryReadLoadPerCore(out double l) && double.IsFinite(l) ? l : null;
        Judge("load per core", load, Options.MaxLoadPerCore, "", "F2", over, notes);

        double? power = null;
        if (_power is null)
        {
            notes.Add("power not monitored");
        }
        else
        {
            power = _power.TryReadWatts(out double w) && double.IsFinite(w) ? w : null;
            Judge("power", power, Options.MaxPowerWatts, " W", "F1", over, notes);
        }

        bool allowed = over.Count == 0;
        string reason = allowed
            ? "ok: " + string.Join("; ", notes)
            : string.Join("; ", over) + (notes.Count > 0 ? " (" + string.Join("; ", notes) + ")" : "");
        return new ResourceVerdict(allowed, reason, temperature, load, power);
    }

    private static void Judge(string name, double? value, double? limit, string unit, string format, List<string> over, List<string> notes)
    {
        var c = CultureInfo.InvariantCulture;
        if (value is not double v)
        {
            notes.Add($"{name} not readable");
            return;
        }
        string reading = v.ToString(format, c) + unit;
        if (limit is not double max)
        {
            notes.Add($"{name} {reading} (no limit)");
            return;
        }
        string limitText = max.ToString(format, c) + unit;
        if (v > max)
            over.Add($"{name} {reading} is over the limit {limitText}");
        else
            notes.Add($"{name} {reading} within the limit {limitText}");
    }
}

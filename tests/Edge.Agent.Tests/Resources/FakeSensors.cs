using EdgeTL.Agent.Resources;

namespace EdgeTL.Agent.Tests.Resources;

/// <summary>Sensor fakes: each reading is a value, or null for "cannot be read".</summary>
public sealed class FakeSensors : IThermalSensor, ILoadSensor, IPowerSensor
{
    public double? Celsius { get; set; }
    public double? LoadPerCore { get; set; }
    public double? Watts { get; set; }

    public bool TryReadMaxCelsius(out double celsius) => Read(Celsius, out celsius);

    public bool TryReadLoadPerCore(out double load) => Read(LoadPerCore, out load);

    public bool TryReadWatts(out double watts) => Read(Watts, out watts);

    private static bool Read(double? value, out double result)
    {
        result = value ?? 0;
        return value.HasValue;
    }
}

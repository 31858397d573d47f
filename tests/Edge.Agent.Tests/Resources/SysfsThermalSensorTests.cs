using EdgeTL.Agent.Resources;

namespace EdgeTL.Agent.Tests.Resources;

public sealed class SysfsThermalSensorTests : IDisposable
{
    private readonly SysfsTree _sys = new();

    public void Dispose() => _sys.Dispose();

    [Fact]
    public void TryReadMaxCelsius_SeveralZones_ReturnsHottestInDegrees()
    {
        _sys.Write("thermal_zone0/temp", "41500");
        _sys.Write("thermal_zone1/temp", "67250");
        _sys.Write("thermal_zone2/temp", "-5000");
        _sys.Write("cooling_device0/cur_state", "99000");

        Assert.True(new SysfsThermalSensor(_sys.Root).TryReadMaxCelsius(out double celsius));
        Assert.Equal(67.25, celsius, 6);
    }

    [Fact]
    public void TryReadMaxCelsius_BrokenZones_AreSkipped()
    {
        _sys.Write("thermal_zone0/temp", "52000");
        _sys.Write("thermal_zone1/temp", "not a number");
        _sys.Write("thermal_zone2/temp", "");
        _sys.Unreadable("thermal_zone3/temp");
        Directory.CreateDirectory(Path.Combine(_sys.Root, "thermal_zone4")); // no temp file

        Assert.True(new SysfsThermalSensor(_sys.Root).TryReadMaxCelsius(out double celsius));
        Assert.Equal(52.0, celsius, 6);
    }

    [Fact]
    public void TryReadMaxCelsius_NoReadableZone_ReturnsFalse()
    {
        _sys.Write("thermal_zone0/temp", "garbage");
        Assert.False(new SysfsThermalSensor(_sys.Root).TryReadMaxCelsius(out _));
    }

    [Fact]
    public void TryReadMaxCelsius_RootMissing_ReturnsFalse()
    {
        var sensor = new SysfsThermalSensor(Path.Combine(_sys.Root, "does-not-exist"));
        Assert.False(sensor.TryReadMaxCelsius(out _));
    }
}

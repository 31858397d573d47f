using EdgeTL.Agent.Resources;

namespace EdgeTL.Agent.Tests.Resources;

public sealed class Ina219PowerSensorTests
{
    [Fact]
    public void Constructor_NoI2cBus_ThrowsDeviceUnavailable()
    {
        // Bus 97 exists on no machine this runs on (no /dev/i2c-97).
        var e = Assert.Throws<AgentException>(() => new Ina219PowerSensor(busId: 97, address: 0x40));
        Assert.Equal(AgentErrorCode.DeviceUnavailable, e.Code);
        Assert.Contains("/dev/i2c-97", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_AddressOutOfRange_ThrowsInvalidConfiguration()
    {
        var e = Assert.Throws<AgentException>(() => new Ina219PowerSensor(busId: 1, address: 0x80));
        Assert.Equal(AgentErrorCode.InvalidConfiguration, e.Code);
    }

    [Fact]
    public void TryReadWatts_FakeDevice_MultipliesBusVoltageByShuntCurrent()
    {
        var device = new FakeIna219Device();
        device.Measure(busVolts: 12.0, shuntVolts: 0.05);
        using var sensor = new Ina219PowerSensor(device, shuntOhms: 0.1);

        Assert.True(sensor.TryReadWatts(out double watts));
        Assert.Equal(6.0, watts, 3); // 12 V × (0.05 V / 0.1 Ω)
    }

    [Fact]
    public void TryReadWatts_DeviceStopsAnswering_ReturnsFalse()
    {
        var device = new FakeIna219Device();
        device.Measure(5.0, 0.01);
        using var sensor = new Ina219PowerSensor(device, shuntOhms: 0.1);
        device.Broken = true;

        Assert.False(sensor.TryReadWatts(out _));
    }
}

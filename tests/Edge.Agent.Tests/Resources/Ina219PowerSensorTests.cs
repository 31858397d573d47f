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
}

using EdgeTL.Agent.Resources;

namespace EdgeTL.Agent.Tests.Resources;

public sealed class ResourceGateTests
{
    private static ResourceGate Gate(FakeSensors s, ResourceGateOptions? options = null, bool withPower = true) =>
        new(s, s, withPower ? s : null, options ?? new ResourceGateOptions());

    [Fact]
    public void Check_AllReadingsWithinLimits_Allows()
    {
        var s = new FakeSensors { Celsius = 55, LoadPerCore = 0.4, Watts = 7.5 };
        var v = Gate(s, new ResourceGateOptions { MaxPowerWatts = 10 }).Check();

        Assert.True(v.Allowed, v.Reason);
        Assert.Equal(55, v.TemperatureC);
        Assert.Equal(0.4, v.LoadPerCore);
        Assert.Equal(7.5, v.PowerWatts);
        Assert.StartsWith("ok", v.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_TooHot_BlocksNamingReadingAndLimit()
    {
        var v = Gate(new FakeSensors { Celsius = 85.5, LoadPerCore = 0.1 }).Check();

        Assert.False(v.Allowed);
        Assert.Contains("temperature 85.5°C is over the limit 80.0°C", v.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("load per core 0.10 is over", v.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_TooBusy_BlocksNamingReadingAndLimit()
    {
        var v = Gate(new FakeSensors { Celsius = 40, LoadPerCore = 1.75 }).Check();

        Assert.False(v.Allowed);
        Assert.Contains("load per core 1.75 is over the limit 0.90", v.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PowerOverLimit_Blocks()
    {
        var v = Gate(new FakeSensors { Celsius = 40, LoadPerCore = 0.2, Watts = 14.2 }, new ResourceGateOptions { MaxPowerWatts = 10 }).Check();

        Assert.False(v.Allowed);
        Assert.Contains("power 14.2 W is over the limit 10.0 W", v.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_HighPowerWithoutPowerLimit_Allows()
    {
        var v = Gate(new FakeSensors { Celsius = 40, LoadPerCore = 0.2, Watts = 60 }).Check();

        Assert.True(v.Allowed, v.Reason);
        Assert.Equal(60, v.PowerWatts);
    }

    [Fact]
    public void Check_SeveralOverLimits_NamesEach()
    {
        var v = Gate(new FakeSensors { Celsius = 90, LoadPerCore = 2, Watts = 20 }, new ResourceGateOptions { MaxPowerWatts = 10 }).Check();

        Assert.False(v.Allowed);
        Assert.Contains("temperature", v.Reason, StringComparison.Ordinal);
        Assert.Contains("load per core", v.Reason, StringComparison.Ordinal);
        Assert.Contains("power", v.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnreadableSensors_DoNotBlockAndAreReported()
    {
        var v = Gate(new FakeSensors(), new ResourceGateOptions { MaxPowerWatts = 10 }).Check();

        Assert.True(v.Allowed, v.Reason);
        Assert.Null(v.TemperatureC);
        Assert.Null(v.LoadPerCore);
        Assert.Null(v.PowerWatts);
        Assert.Contains("temperature not readable", v.Reason, StringComparison.Ordinal);
        Assert.Contains("load per core not readable", v.Reason, StringComparison.Ordinal);
        Assert.Contains("power not readable", v.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnreadableThermalButTooBusy_StillBlocks()
    {
        var v = Gate(new FakeSensors { LoadPerCore = 3 }).Check();

        Assert.False(v.Allowed);
        Assert.Contains("temperature not readable", v.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NoPowerSensor_ReportsNotMonitored()
    {
        var v = Gate(new FakeSensors { Celsius = 30, LoadPerCore = 0.1, Watts = 99 }, new ResourceGateOptions { MaxPowerWatts = 10 }, withPower: false).Check();

        Assert.True(v.Allowed, v.Reason);
        Assert.Null(v.PowerWatts);
        Assert.Contains("power not monitored", v.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ReadingEqualToLimit_Allows()
    {
        Assert.True(Gate(new FakeSensors { Celsius = 80, LoadPerCore = 0.9 }).Check().Allowed);
    }

    [Fact]
    public void Check_NaNReading_TreatedAsNotReadable()
    {
        var v = Gate(new FakeSensors { Celsius = double.NaN, LoadPerCore = 0.1 }).Check();

        Assert.True(v.Allowed);
        Assert.Null(v.TemperatureC);
    }

    [Fact]
    public void Check_RealSysfsTrees_BlocksOnHotZone()
    {
        using var sys = new SysfsTree();
        sys.Write("thermal/thermal_zone0/temp", "91000");
        var loadavg = sys.Write("loadavg", "0.50 0.40 0.30 1/100 42");
        var gate = new ResourceGate(new SysfsThermalSensor(Path.Combine(sys.Root, "thermal")), new ProcLoadSensor(loadavg, 2), null, new ResourceGateOptions());

        var v = gate.Check();

        Assert.False(v.Allowed);
        Assert.Equal(91.0, v.TemperatureC);
        Assert.Equal(0.25, v.LoadPerCore);
    }

    [Theory]
    [InlineData(0, 0.9, null)]
    [InlineData(double.NaN, 0.9, null)]
    [InlineData(80, -1, null)]
    [InlineData(80, double.PositiveInfinity, null)]
    [InlineData(80, 0.9, 0.0)]
    public void Constructor_InvalidOptions_ThrowsInvalidConfiguration(double maxC, double maxLoad, double? maxWatts)
    {
        var options = new ResourceGateOptions { MaxTemperatureC = maxC, MaxLoadPerCore = maxLoad, MaxPowerWatts = maxWatts };
        var s = new FakeSensors();

        var e = Assert.Throws<AgentException>(() => new ResourceGate(s, s, s, options));
        Assert.Equal(AgentErrorCode.InvalidConfiguration, e.Code);
    }

    [Fact]
    public void Options_Defaults_MatchDocumentedLimits()
    {
        var o = new ResourceGateOptions();
        Assert.Equal(80, o.MaxTemperatureC);
        Assert.Equal(0.9, o.MaxLoadPerCore);
        Assert.Null(o.MaxPowerWatts);
    }
}

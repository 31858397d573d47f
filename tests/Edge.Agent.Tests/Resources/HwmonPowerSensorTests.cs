using EdgeTL.Agent.Resources;

namespace EdgeTL.Agent.Tests.Resources;

public sealed class HwmonPowerSensorTests : IDisposable
{
    private readonly SysfsTree _sys = new();

    public void Dispose() => _sys.Dispose();

    [Fact]
    public void TryReadWatts_PowerInputs_SumsMicrowatts()
    {
        _sys.Write("hwmon0/name", "some_pmic");
        _sys.Write("hwmon0/power1_input", "4500000");
        _sys.Write("hwmon0/power2_input", "1250000");
        _sys.Write("hwmon1/name", "other");
        _sys.Write("hwmon1/power1_input", "250000");

        Assert.True(new HwmonPowerSensor(_sys.Root).TryReadWatts(out double watts));
        Assert.Equal(6.0, watts, 9);
    }

    [Fact]
    public void TryReadWatts_Ina3221VoltageAndCurrent_MultipliesPairsWithTheSameIndex()
    {
        // Jetson's ina3221 driver: in1..3 bus voltage (mV), curr1..3 (mA), in4..6 shunt voltages without a current.
        _sys.Write("hwmon1/name", "ina3221");
        _sys.Write("hwmon1/in1_input", "5000");
        _sys.Write("hwmon1/curr1_input", "1200");
        _sys.Write("hwmon1/in2_input", "4980");
        _sys.Write("hwmon1/curr2_input", "500");
        _sys.Write("hwmon1/in4_input", "12");

        Assert.True(new HwmonPowerSensor(_sys.Root).TryReadWatts(out double watts));
        Assert.Equal((5.0 * 1.2) + (4.98 * 0.5), watts, 9);
    }

    [Fact]
    public void TryReadWatts_PowerInputPresent_IgnoresVoltageCurrentPairsOfThatDevice()
    {
        _sys.Write("hwmon0/power1_input", "3000000");
        _sys.Write("hwmon0/in1_input", "5000");
        _sys.Write("hwmon0/curr1_input", "1000");

        Assert.True(new HwmonPowerSensor(_sys.Root).TryReadWatts(out double watts));
        Assert.Equal(3.0, watts, 9);
    }

    [Fact]
    public void TryReadWatts_AttributesInDeviceSubfolder_AreFound()
    {
        _sys.Write("hwmon0/device/in1_input", "12000");
        _sys.Write("hwmon0/device/curr1_input", "250");

        Assert.True(new HwmonPowerSensor(_sys.Root).TryReadWatts(out double watts));
        Assert.Equal(3.0, watts, 9);
    }

    [Fact]
    public void TryReadWatts_BrokenFiles_AreSkipped()
    {
        _sys.Write("hwmon0/power1_input", "2000000");
        _sys.Write("hwmon0/power2_input", "n/a");
        _sys.Unreadable("hwmon0/power3_input");
        _sys.Write("hwmon1/in1_input", "5000");
        _sys.Write("hwmon1/curr1_input", "garbage");
        _sys.Write("hwmon1/curr2_input", "700"); // no in2_input

        Assert.True(new HwmonPowerSensor(_sys.Root).TryReadWatts(out double watts));
        Assert.Equal(2.0, watts, 9);
    }

    [Fact]
    public void TryReadWatts_OnlyTemperatureSensors_ReturnsFalse()
    {
        _sys.Write("hwmon0/name", "coretemp");
        _sys.Write("hwmon0/temp1_input", "45000");
        _sys.Write("hwmon0/in0_input", "900");

        Assert.False(new HwmonPowerSensor(_sys.Root).TryReadWatts(out _));
    }

    [Fact]
    public void TryReadWatts_RootMissing_ReturnsFalse()
    {
        Assert.False(new HwmonPowerSensor(Path.Combine(_sys.Root, "nope")).TryReadWatts(out _));
    }
}

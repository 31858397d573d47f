using EdgeTL.Agent.Resources;

namespace EdgeTL.Agent.Tests.Resources;

public sealed class ProcLoadSensorTests : IDisposable
{
    private readonly SysfsTree _proc = new();

    public void Dispose() => _proc.Dispose();

    [Fact]
    public void TryReadLoadPerCore_LoadavgLine_DividesOneMinuteAverageByCores()
    {
        var path = _proc.Write("loadavg", "3.20 1.05 0.70 5/467 12345");

        Assert.True(new ProcLoadSensor(path, cores: 4).TryReadLoadPerCore(out double load));
        Assert.Equal(0.8, load, 9);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc 1.0 1.0 1/2 3")]
    [InlineData("-1.0 0.5 0.5 1/2 3")]
    public void TryReadLoadPerCore_MalformedFile_ReturnsFalse(string content)
    {
        var path = _proc.Write("loadavg", content);
        Assert.False(new ProcLoadSensor(path, cores: 2).TryReadLoadPerCore(out _));
    }

    [Fact]
    public void TryReadLoadPerCore_MissingFile_ReturnsFalse()
    {
        Assert.False(new ProcLoadSensor(Path.Combine(_proc.Root, "loadavg"), cores: 2).TryReadLoadPerCore(out _));
    }

    [Fact]
    public void Constructor_ZeroCores_ThrowsInvalidConfiguration()
    {
        var e = Assert.Throws<AgentException>(() => new ProcLoadSensor("/proc/loadavg", cores: 0));
        Assert.Equal(AgentErrorCode.InvalidConfiguration, e.Code);
    }

    [Fact]
    public void TryReadLoadPerCore_RealProcLoadavg_ReadsANonNegativeValue()
    {
        var sensor = new ProcLoadSensor();
        Assert.Equal(Environment.ProcessorCount, sensor.Cores);
        Assert.True(sensor.TryReadLoadPerCore(out double load));
        Assert.True(load >= 0);
    }
}

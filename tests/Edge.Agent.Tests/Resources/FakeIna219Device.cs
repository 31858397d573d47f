using System.Buffers.Binary;
using System.Device.I2c;

namespace EdgeTL.Agent.Tests.Resources;

/// <summary>An I2C device that behaves like an INA219: a register pointer and 16-bit big-endian registers.</summary>
public sealed class FakeIna219Device : I2cDevice
{
    private readonly Dictionary<byte, ushort> _registers = new() { [0] = 0x399F };
    private byte _pointer;

    /// <summary>When set, every transfer fails as a disconnected device does.</summary>
    public bool Broken { get; set; }

    public override I2cConnectionSettings ConnectionSettings { get; } = new(1, 0x40);

    /// <summary>Sets what the device measures: bus voltage (4 mV steps) and shunt voltage (10 µV steps).</summary>
    public void Measure(double busVolts, double shuntVolts)
    {
        _registers[2] = (ushort)(((int)Math.Round(busVolts / 0.004) << 3) | 0x2); // CNVR set, no overflow
        _registers[1] = unchecked((ushort)(short)Math.Round(shuntVolts / 10e-6));
    }

    public override byte ReadByte() => throw new NotSupportedException();

    public override void Read(Span<byte> buffer)
    {
        Check();
        BinaryPrimitives.WriteUInt16BigEndian(buffer, _registers.GetValueOrDefault(_pointer));
    }

    public override void WriteByte(byte value)
    {
        Check();
        _pointer = value;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Check();
        _pointer = buffer[0];
        if (buffer.Length >= 3)
            _registers[_pointer] = BinaryPrimitives.ReadUInt16BigEndian(buffer[1..]);
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    private void Check()
    {
        if (Broken)
            throw new IOException("Error 121 performing I2C data transfer.");
    }
}

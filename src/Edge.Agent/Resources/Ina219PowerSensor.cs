using System.Device.I2c;
using Iot.Device.Adc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeTL.Agent.Resources;

/// <summary>
/// Reads power from an external INA219 current monitor on I²C (Iot.Device.Bindings
/// <see cref="Ina219"/>): P = V_bus × V_shunt / R_shunt, which needs no calibration register.
/// </summary>
public sealed partial class Ina219PowerSensor : IPowerSensor, IDisposable
{
    private readonly I2cDevice _device;
    private readonly Ina219 _ina219;
    private readonly bool _ownsDevice;
    private readonly ILogger _logger;

    /// <summary>Opens the INA219 at <paramref name="address"/> on I²C bus <paramref name="busId"/>.</summary>
    /// <param name="busId">I²C bus number (<c>/dev/i2c-N</c>).</param>
    /// <param name="address">7-bit device address; 0x40 is the INA219 default.</param>
    /// <param name="shuntOhms">The shunt resistor; 0.1 Ω on the common breakout boards.</param>
    /// <param name="logger">Where failed reads are logged.</param>
    /// <exception cref="AgentException"><see cref="AgentErrorCode.DeviceUnavailable"/> when the bus or device cannot be opened.</exception>
    public Ina219PowerSensor(int busId = 1, int address = 0x40, double shuntOhms = 0.1, ILogger<Ina219PowerSensor>? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(busId);
        if (address is < 0x03 or > 0x77)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, $"I2C address 0x{address:X2} is outside the 7-bit range 0x03-0x77.");
        ValidateShunt(shuntOhms);
        I2cDevice? device = null;
        try
        {
            device = I2cDevice.Create(new I2cConnectionSettings(busId, address));
            _ina219 = new Ina219(device);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException
                                      or InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            device?.Dispose();
            throw new AgentException(AgentErrorCode.DeviceUnavailable,
                $"No INA219 could be opened at address 0x{address:X2} on I2C bus {busId} (/dev/i2c-{busId}): {e.Message}", e);
        }
        _device = device;
        _ownsDevice = true;
        ShuntOhms = shuntOhms;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Uses an already opened I²C device (not disposed by this class); for tests and custom buses.</summary>
    internal Ina219PowerSensor(I2cDevice device, double shuntOhms, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ValidateShunt(shuntOhms);
        _device = device;
        _ina219 = new Ina219(device);
        ShuntOhms = shuntOhms;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The shunt resistance used to turn shunt voltage into current, in ohms.</summary>
    public double ShuntOhms { get; }

    /// <inheritdoc/>
    public bool TryReadWatts(out double watts)
    {
        try
        {
            double bus = _ina219.ReadBusVoltage().Volts;
            double shunt = _ina219.ReadShuntVoltage().Volts;
            watts = Math.Abs(bus * shunt / ShuntOhms);
            return double.IsFinite(watts);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            LogReadFailed(_logger, e);
            watts = 0;
            return false;
        }
    }

    /// <summary>Closes the device.</summary>
    public void Dispose()
    {
        _ina219.Dispose();
        if (_ownsDevice)
            _device.Dispose();
    }

    [LoggerMessage(EventId = 5005, EventName = "PowerSensorReadFailed", Level = LogLevel.Warning, Message = "INA219 read failed.")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);

    private static void ValidateShunt(double shuntOhms)
    {
        if (!double.IsFinite(shuntOhms) || shuntOhms <= 0)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, $"The shunt resistance must be a positive number of ohms, got {shuntOhms}.");
    }
}

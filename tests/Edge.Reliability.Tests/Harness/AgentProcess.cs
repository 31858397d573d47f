using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Hosting;

namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>
/// The real agent (<c>edgetl-agent run --config …</c>) as a child process, so that SIGKILL and
/// SIGTERM are real. It keeps its data folder across restarts; every instance is killed by pid
/// when the test ends.
/// </summary>
public sealed class AgentProcess : IDisposable
{
    private readonly string _config;
    private readonly string _agentDll;
    private readonly Dictionary<string, string> _environment;
    private Process? _process;

    /// <summary>
    /// Writes the configuration (fleet <c>test</c>, device <paramref name="device"/>, the broker on
    /// 127.0.0.1:<paramref name="brokerPort"/>, data under <paramref name="directory"/>);
    /// <paramref name="configure"/> edits the <c>Agent</c> section; <paramref name="agentDll"/> runs another
    /// build of the agent than the solution's (<see cref="RepoPaths.AgentDll"/>).
    /// </summary>
    public AgentProcess(string directory, int brokerPort, string device = "dev1", Action<JsonObject>? configure = null, IReadOnlyDictionary<string, string>? environment = null,
        string? agentDll = null)
    {
        Directory = directory;
        _agentDll = agentDll ?? RepoPaths.AgentDll;
        Device = device;
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "keys"));
        var agent = new JsonObject
        {
            [nameof(AgentOptions.Fleet)] = "test",
            [nameof(AgentOptions.Device)] = device,
            [nameof(AgentOptions.DataDirectory)] = DataDirectory,
            [nameof(AgentOptions.TrustedKeysDirectory)] = Path.Combine(directory, "keys"),
            [nameof(AgentOptions.Broker)] = new JsonObject { ["Host"] = "127.0.0.1", ["Port"] = brokerPort, ["ReconnectDelay"] = "00:00:00.100", ["MaxReconnectDelay"] = "00:00:01" },
            [nameof(AgentOptions.MaxLoadPerCore)] = 1000,   // the CI machine is busy with other tests; the gate is tested elsewhere
            [nameof(AgentOptions.TelemetryInterval)] = "00:00:00",
            [nameof(AgentOptions.WatchdogInterval)] = "00:00:00.200",
            [nameof(AgentOptions.Drift)] = new JsonObject { ["Enabled"] = false },
        };
        configure?.Invoke(agent);
        _config = Path.Combine(directory, "agent.json");
        File.WriteAllText(_config, new JsonObject { ["Agent"] = agent }.ToJsonString());
        _environment = environment is null ? [] : new Dictionary<string, string>(environment);
    }

    /// <summary>The folder holding the configuration, keys and data.</summary>
    public string Directory { get; }

    /// <summary>The device id.</summary>
    public string Device { get; }

    /// <summary>The agent's data folder (its LiteDB store and models).</summary>
    public string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>Every line the agent wrote (stdout and stderr, all instances), in order.</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    /// <summary>Times the agent was started.</summary>
    public int Starts { get; private set; }

    /// <summary>The running instance's pid (0 when none runs).</summary>
    public int Pid => _process is { HasExited: false } p ? p.Id : 0;

    /// <summary>
    /// Starts an instance and waits until it says it is running (its store and model are open)
    /// and, unless <paramref name="waitForBroker"/> is false, until it is connected and subscribed:
    /// commands published before that have no session to wait in.
    /// </summary>
    public void Start(TimeSpan? timeout = null, bool waitForBroker = true)
    {
        if (Pid != 0)
            throw new InvalidOperationException("The agent is already running.");
        var info = new ProcessStartInfo("dotnet", [_agentDll, "run", "--config", _config])
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in _environment)
            info.Environment[name] = value;
        int before = Output.Count;
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Starts++;
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!Output.Skip(before).Any(line => line.Contains($"Agent test/{Device} running", StringComparison.Ordinal))
            || (waitForBroker && !Output.Skip(before).Any(IsBrokerConnected)))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The agent exited with {process.ExitCode} while starting:\n{Tail()}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The agent did not start within {timeout ?? TimeSpan.FromSeconds(60)}:\n{Tail()}");
            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// The agent's BrokerConnected event (<c>MqttConnection[1001] Connected to …</c>), which it logs once
    /// subscribed; matched without its event id, which changed from 1 to 1001 once.
    /// </summary>
    private static bool IsBrokerConnected(string line) =>
        line.Contains("Messaging.MqttConnection[", StringComparison.Ordinal) && line.Contains("] Connected to ", StringComparison.Ordinal);

    /// <summary>SIGKILL: the process dies at once, with no chance to flush or close anything.</summary>
    public void Kill()
    {
        if (_process is null)
            return;
        if (!_process.HasExited)
            _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGTERM, as systemd stops the service; returns the exit code and how long the agent took to exit.</summary>
    public (int ExitCode, TimeSpan Elapsed) Terminate(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException("The agent is not running.");
        var clock = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!)
            kill.WaitForExit();
        if (!process.WaitForExit(timeout))
        {
            process.Kill();
            throw new TimeoutException($"The agent did not exit within {timeout} of SIGTERM:\n{Tail()}");
        }
        process.WaitForExit();
        int code = process.ExitCode;
        process.Dispose();
        _process = null;
        return (code, clock.Elapsed);
    }

    /// <summary>The last lines of output, for failure messages.</summary>
    public string Tail(int lines = 40) => string.Join('\n', Output.TakeLast(lines));

    /// <summary>Lines that show a crash: an unhandled exception or a fatal runtime error.</summary>
    public IReadOnlyList<string> CrashLines() =>
        [.. Output.Where(line => line.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase) || line.Contains("Fatal error", StringComparison.OrdinalIgnoreCase))];

    public void Dispose() => Kill();
}

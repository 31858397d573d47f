using EdgeTL.Agent.Messaging;
using EdgeTL.Runtime.Onnx;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// The agent's settings (configuration section <c>Agent</c>): from appsettings.json, then
/// <c>/etc/edgetl/agent.json</c>, then environment variables (<c>EDGETL_Agent__Device=…</c>).
/// Validated at start: a bad setting stops the service with a message naming it.
/// </summary>
public sealed record AgentOptions
{
    /// <summary>Fleet (tenant) name: the second topic level.</summary>
    public string Fleet { get; init; } = "default";

    /// <summary>This device's id: the third topic level and the MQTT client id.</summary>
    public string Device { get; init; } = Environment.MachineName.ToLowerInvariant();

    /// <summary>Device group whose retained deploy topic this device follows.</summary>
    public string Group { get; init; } = "all";

    /// <summary>Where the store, models and heads live (systemd: <c>/var/lib/edgetl</c>).</summary>
    public string DataDirectory { get; init; } = "./data/agent";

    /// <summary>Folder of trusted package-signing public keys (PEM); every key in it is trusted (rotation).</summary>
    public string TrustedKeysDirectory { get; init; } = "./data/agent/keys";

    /// <summary>The broker.</summary>
    public BrokerOptions Broker { get; init; } = new();

    /// <summary>Largest command payload accepted, bytes.</summary>
    public int MaxCommandBytes { get; init; } = 4 << 20;

    /// <summary>Commands waiting to run; beyond it commands are answered <c>busy</c>.</summary>
    public int CommandQueueCapacity { get; init; } = 32;

    /// <summary>Most outbox rows; beyond it the oldest metrics are dropped (counted).</summary>
    public int OutboxCapacity { get; init; } = 100_000;

    /// <summary>
    /// Most outbox messages published and not yet removed at once (QoS 1 publishes awaiting their
    /// PUBACK, and acknowledged rows awaiting the batch that removes them, half of it at a time); the
    /// broker's Receive Maximum caps the publishes awaiting a PUBACK. 1: one publish at a time. A SIGKILL can make up to this many
    /// messages arrive twice (receivers drop repeats by <c>edgetl-seq</c>).
    /// </summary>
    public int OutboxWindow { get; init; } = OutboxPublisher.DefaultWindow;

    /// <summary>Model versions kept on disk.</summary>
    public int KeepVersions { get; init; } = 3;

    /// <summary>Health gate: largest median feature-extraction latency per image, milliseconds.</summary>
    public double HealthLatencyBudgetMs { get; init; } = 500;

    /// <summary>Cold start: labelled samples per class before the first head is fitted.</summary>
    public int ColdStartShots { get; init; } = 5;

    /// <summary>
    /// Promotion guard: fewest holdout rows (labelled samples no candidate trained on) on which a
    /// fine-tuned or adapted head may be promoted over the serving one; with fewer it is not.
    /// </summary>
    public int MinHoldout { get; init; } = 20;

    /// <summary>
    /// Promotion guard: how much worse than the serving head a candidate may be (accuracy as a
    /// fraction; 0.02 is 2 points), at the one-sided 95 % lower bound from the discordant pairs.
    /// </summary>
    public double PromotionTolerance { get; init; } = 0.02;

    /// <summary>
    /// Promotion guard: an adaptation without <see cref="MinHoldout"/> labelled target rows may
    /// still be promoted when its mean prediction entropy on the target and its agreement with the
    /// source golden set (labelled source holdout rows) do not get worse.
    /// </summary>
    public bool AllowLabelFreePromotion { get; init; } = true;

    /// <summary>
    /// Promotion guard: a backbone adaptation (<c>bn</c>, <c>tent</c>) judged on labelled target rows
    /// must also score higher than what serves, not only no worse within the tolerance (as a head
    /// adaptation must beat its source-only baseline).
    /// </summary>
    public bool AdaptationMustHelp { get; init; } = true;

    /// <summary>Drift monitoring and automatic adaptation.</summary>
    public DriftPolicy Drift { get; init; } = new();

    /// <summary>Training gates: defer training when hotter or busier than this.</summary>
    public double MaxTemperatureC { get; init; } = 80;

    /// <summary>
    /// Training gates: 1-minute load average per core (<c>/proc/loadavg</c> ÷ cores) above which
    /// training waits. 1.0 is every core busy; 0.9 lets a device under ordinary load train and
    /// defers one saturated by other work (docs/configuration.md has the measurements).
    /// </summary>
    public double MaxLoadPerCore { get; init; } = 0.9;

    /// <summary>A folder to ingest images from (subfolders named after labels), or null.</summary>
    public string? SampleFolder { get; init; }

    /// <summary>A V4L2 camera to sample from (for example <c>/dev/video0</c>), or null.</summary>
    public string? CameraDevice { get; init; }

    /// <summary>Time between camera captures.</summary>
    public TimeSpan CameraInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the watchdog is fed while the loops make progress.</summary>
    public TimeSpan WatchdogInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the watchdog is fed while the agent is still starting (opening the served model).</summary>
    public TimeSpan StartupGrace { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often the agent publishes its health on <c>metrics/system</c> (uptime, outbox depth and
    /// drops, memory, temperature, load, what is served); zero turns it off.
    /// </summary>
    public TimeSpan TelemetryInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How far in the future a command's <c>issuedAt</c> may be (the sender's clock ahead of the
    /// device's); further is refused as <c>notYetValid</c>.
    /// </summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How old a command's <c>issuedAt</c> may be; older is refused as <c>expired</c>. At most the
    /// inbox's 7-day memory of ids, so no replay outlives its record.
    /// </summary>
    public TimeSpan MaxCommandAge { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Least time between two <c>training</c> progress metrics of a job (the final result has every epoch); zero: every epoch.</summary>
    public TimeSpan TrainingMetricsInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the training gate (temperature, load, power) is checked, so the state follows it and deferred jobs start when it opens.</summary>
    public TimeSpan GateCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long SIGTERM waits for the outbox to drain.</summary>
    public TimeSpan ShutdownFlushTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Folder where TensorRT keeps the engines it builds (fp16) so a restart does not rebuild them
    /// (systemd: <c>/var/cache/edgetl/tensorrt</c>); null: no cache. Used only when the TensorRT
    /// provider loads.
    /// </summary>
    public string? TensorRtEngineCache { get; init; }

    /// <summary>The ONNX Runtime session preferences for served models: TensorRT → CUDA → CPU, with <see cref="TensorRtEngineCache"/>.</summary>
    public SessionOptionsSpec Sessions() => new() { TensorRtEngineCache = TensorRtEngineCache };

    /// <summary>The problems of these settings (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var (name, value) in new[] { ("Fleet", Fleet), ("Device", Device), ("Group", Group) })
        {
            if (string.IsNullOrEmpty(value) || value.IndexOfAny(['/', '+', '#', '\0']) >= 0 || value.Length > 128)
                problems.Add($"Agent:{name} '{value}' must be one MQTT topic level (1–128 characters, no / + #).");
        }
        if (string.IsNullOrWhiteSpace(DataDirectory))
            problems.Add("Agent:DataDirectory is empty.");
        if (MaxCommandBytes is < 1024 or > 64 << 20)
            problems.Add($"Agent:MaxCommandBytes {MaxCommandBytes} must be between 1 KiB and 64 MiB.");
        if (CommandQueueCapacity < 1)
            problems.Add("Agent:CommandQueueCapacity must be at least 1.");
        if (OutboxCapacity < 10)
            problems.Add("Agent:OutboxCapacity must be at least 10.");
        if (OutboxWindow is < 1 or > ushort.MaxValue)
            problems.Add($"Agent:OutboxWindow {OutboxWindow} must be between 1 and 65535.");
        if (KeepVersions < 2)
            problems.Add("Agent:KeepVersions must be at least 2 (current and previous).");
        if (!(HealthLatencyBudgetMs > 0))
            problems.Add("Agent:HealthLatencyBudgetMs must be positive.");
        if (ColdStartShots < 1)
            problems.Add("Agent:ColdStartShots must be at least 1.");
        if (MinHoldout is < 1 or > 100_000)
            problems.Add($"Agent:MinHoldout {MinHoldout.ToString(System.Globalization.CultureInfo.InvariantCulture)} must be between 1 and 100000.");
        if (!(PromotionTolerance is >= 0 and <= 0.5))
            problems.Add($"Agent:PromotionTolerance {PromotionTolerance.ToString(System.Globalization.CultureInfo.InvariantCulture)} must be between 0 and 0.5 (accuracy as a fraction; 0.02 is 2 points).");
        if (!(MaxTemperatureC > 0) || !double.IsFinite(MaxTemperatureC))
            problems.Add($"Agent:MaxTemperatureC {MaxTemperatureC.ToString(System.Globalization.CultureInfo.InvariantCulture)} must be a positive number of °C.");
        if (!(MaxLoadPerCore > 0) || !double.IsFinite(MaxLoadPerCore))
            problems.Add($"Agent:MaxLoadPerCore {MaxLoadPerCore.ToString(System.Globalization.CultureInfo.InvariantCulture)} must be a positive load per core (1.0: every core busy).");
        if (CameraInterval <= TimeSpan.Zero)
            problems.Add("Agent:CameraInterval must be positive.");
        if (TelemetryInterval < TimeSpan.Zero || (TelemetryInterval > TimeSpan.Zero && TelemetryInterval < TimeSpan.FromMilliseconds(10)))
            problems.Add("Agent:TelemetryInterval must be zero (off) or at least 10 ms.");
        if (MaxClockSkew < TimeSpan.Zero || MaxClockSkew > TimeSpan.FromDays(1))
            problems.Add("Agent:MaxClockSkew must be between 00:00:00 and 1.00:00:00.");
        if (MaxCommandAge < TimeSpan.FromMinutes(1) || MaxCommandAge > TimeSpan.FromDays(7))
            problems.Add("Agent:MaxCommandAge must be between 00:01:00 and 7.00:00:00 (the inbox remembers ids for 7 days).");
        if (TrainingMetricsInterval < TimeSpan.Zero)
            problems.Add("Agent:TrainingMetricsInterval must be zero (every epoch) or positive.");
        if (GateCheckInterval < TimeSpan.FromMilliseconds(50) || GateCheckInterval > TimeSpan.FromHours(1))
            problems.Add("Agent:GateCheckInterval must be between 50 ms and 1 h.");
        if (WatchdogInterval <= TimeSpan.Zero)
            problems.Add("Agent:WatchdogInterval must be positive.");
        if (TensorRtEngineCache is { } cache && !Path.IsPathFullyQualified(cache))
            problems.Add($"Agent:TensorRtEngineCache '{cache}' must be an absolute path.");
        problems.AddRange(Broker.Problems().Select(p => "Agent:" + p));
        problems.AddRange(Drift.Problems());
        return problems;
    }
}

using System.Text.Json;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;

namespace EdgeTL.Agent.Services;

/// <summary>
/// The settings in force: the configuration's, replaced by what <c>set-config</c> stored (kept in
/// the store, so a restart keeps them).
/// </summary>
public sealed class SettingsService
{
    private const string Key = "runtime";
    private readonly AgentStore _store;
    private RuntimeSettings _current;

    /// <summary>Reads the stored settings, or the configuration's when none (or unreadable ones) are stored.</summary>
    public SettingsService(AgentOptions options, AgentStore store)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _current = Load(options);
    }

    /// <summary>The settings in force.</summary>
    public RuntimeSettings Current => Volatile.Read(ref _current);

    /// <summary>Stores <paramref name="next"/> and puts it in force.</summary>
    public void Save(RuntimeSettings next)
    {
        ArgumentNullException.ThrowIfNull(next);
        _store.Settings.Upsert(new SettingRecord { Id = Key, Json = JsonSerializer.Serialize(next, AgentJson.Default.RuntimeSettings) });
        Volatile.Write(ref _current, next);
    }

    private RuntimeSettings Load(AgentOptions options)
    {
        var defaults = new RuntimeSettings
        {
            Drift = options.Drift,
            ColdStartShots = options.ColdStartShots,
            MaxTemperatureC = options.MaxTemperatureC,
            MaxLoadPerCore = options.MaxLoadPerCore,
        };
        if (_store.Settings.FindById(Key) is not { } stored)
            return defaults;
        try
        {
            return JsonSerializer.Deserialize(stored.Json, AgentJson.Default.RuntimeSettings) ?? defaults;
        }
        catch (JsonException)
        {
            return defaults;
        }
    }
}

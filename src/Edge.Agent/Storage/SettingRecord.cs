namespace EdgeTL.Agent.Storage;

/// <summary>One run-time setting: a name and its JSON value.</summary>
public sealed class SettingRecord
{
    /// <summary>The setting's name (the key).</summary>
    public string Id { get; set; } = "";

    /// <summary>Its value, as JSON.</summary>
    public string Json { get; set; } = "";
}

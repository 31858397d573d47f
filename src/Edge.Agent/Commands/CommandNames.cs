namespace EdgeTL.Agent.Commands;

/// <summary>The commands the agent understands (protocol version 1).</summary>
public static class CommandNames
{
    /// <summary>Protocol version carried by results.</summary>
    public const int ProtocolVersion = 1;

    /// <summary>Deploy a package.</summary>
    public const string Deploy = "deploy";

    /// <summary>Every known command name.</summary>
    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "status", "deploy", "rollback", "ingest", "label", "finetune", "adapt", "evaluate", "predict", "set-config", "cancel",
    };
}

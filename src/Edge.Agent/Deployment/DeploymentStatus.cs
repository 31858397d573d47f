namespace EdgeTL.Agent.Deployment;

/// <summary>How a deployment (or an operator's rollback) ended.</summary>
public enum DeploymentStatus
{
    /// <summary>The new model passed the health gate and is now current.</summary>
    Promoted,
    /// <summary>The previous model is current again (the new one failed its health gate, or an operator asked).</summary>
    RolledBack,
    /// <summary>The package failed verification; nothing changed.</summary>
    Rejected,
    /// <summary>The package could not be fetched or stored, or there was nothing to roll back to; nothing changed.</summary>
    Failed,
}

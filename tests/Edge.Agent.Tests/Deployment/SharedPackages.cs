namespace EdgeTL.Agent.Tests.Deployment;

/// <summary>
/// The test classes that deploy real packages share one <see cref="DeploymentPackages"/> (two
/// ResNet-18 packages built once per run, not once per class) and run one after another, which
/// also keeps them from competing for the two CI cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedPackages : ICollectionFixture<DeploymentPackages>
{
    public const string Name = "deployment packages";
}

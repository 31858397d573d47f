namespace EdgeTL.Cloud.Tests;

/// <summary>Test classes that share one tiny pretrained model and its package (run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class PretrainedGroup : ICollectionFixture<PretrainedFixture>
{
    public const string Name = "pretrained";
}

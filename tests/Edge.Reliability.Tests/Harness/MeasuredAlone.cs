namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>
/// Tests that measure this process itself (its threads, file descriptors and managed heap) run in
/// this collection: xunit runs it after every parallel collection, with nothing else in the
/// process, so the changes they see are their own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredAlone
{
    public const string Name = "measured alone";
}

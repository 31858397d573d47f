namespace EdgeTL.Trainer.Tests;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void IsAvailable_PatchedLibTorchSharp_LoadsOnThisMachine()
    {
        Assert.True(TorchRuntime.IsAvailable, TorchRuntime.Describe());
        Assert.Contains("libtorch loaded", TorchRuntime.Describe(), StringComparison.Ordinal);
        TorchRuntime.EnsureAvailable();
    }
}

using EdgeTL.Agent.Sources;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Agent.Tests.Sources;

public sealed class CameraSampleSourceTests
{
    [Fact]
    public async Task ReadAllAsync_WorkingCamera_YieldsDecodableUnlabelledCaptures()
    {
        var camera = new FakeCamera(RepoData.Photos);
        var source = new CameraSampleSource(camera, TimeSpan.FromMilliseconds(10), "site-7");

        var samples = await SourceReader.ReadAsync(source, 4, TimeSpan.FromSeconds(5));

        Assert.Equal(4, samples.Count);
        var decoder = new ImageDecoder();
        for (int i = 0; i < 4; i++)
        {
            Assert.Same(RepoData.Photos[i], samples[i].Image);
            Assert.Null(samples[i].Label);
            Assert.Equal("site-7", samples[i].Domain);
            Assert.Equal("camera", samples[i].Origin);
            var (_, height, width) = decoder.Decode(samples[i].Image);
            Assert.Equal((256, 256), (height, width));
        }
    }

    [Fact]
    public async Task ReadAllAsync_FailedCaptures_AreSkipped()
    {
        var camera = new FakeCamera(RepoData.Photos, attempt => attempt is 0 or 2 or 3);
        var source = new CameraSampleSource(camera, TimeSpan.FromMilliseconds(10), "target");

        var samples = await SourceReader.ReadAsync(source, 3, TimeSpan.FromSeconds(5));

        Assert.Equal(3, samples.Count);
        Assert.Equal(6, camera.Attempts); // attempts 1, 4, 5 succeeded
        Assert.Equal(RepoData.Photos.Take(3), samples.Select(s => s.Image));
    }

    [Fact]
    public async Task ReadAllAsync_Interval_SpacesCaptures()
    {
        var camera = new FakeCamera(RepoData.Photos);
        var source = new CameraSampleSource(camera, TimeSpan.FromMilliseconds(100), "target");

        var samples = await SourceReader.ReadForAsync(source, TimeSpan.FromMilliseconds(600));

        // One at t=0, then at most one per 100 ms (a delay never ends early); at least a second one within 600 ms.
        Assert.InRange(samples.Count, 2, 7);
    }

    [Fact]
    public async Task ReadAllAsync_Cancelled_ThrowsOperationCanceled()
    {
        var source = new CameraSampleSource(new FakeCamera(RepoData.Photos), TimeSpan.FromSeconds(30), "target");
        using var cts = new CancellationTokenSource();
        await using var e = source.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await e.MoveNextAsync());

        var next = e.MoveNextAsync().AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next);
    }

    [Fact]
    public void Constructor_ZeroInterval_ThrowsInvalidConfiguration()
    {
        var e = Assert.Throws<AgentException>(() => new CameraSampleSource(new FakeCamera(RepoData.Photos), TimeSpan.Zero, "target"));
        Assert.Equal(AgentErrorCode.InvalidConfiguration, e.Code);
    }
}

using EdgeTL.Agent.Deployment;

namespace EdgeTL.Agent.Tests.Deployment;

public sealed class PackageFetcherTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-fetch-").FullName;
    private readonly byte[] _content = RandomBytes(300_000, seed: 11);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Downloads => Path.Combine(_dir, "downloads");

    [Fact]
    public async Task FetchAsync_ConnectionDropsHalfway_ResumesWithRangeAndIsByteIdentical()
    {
        int half = _content.Length / 2;
        await using var server = new LoopbackHttpServer((request, stream) => request.Number == 1
            ? LoopbackHttpServer.Reply(stream, 200, _content, sendOnly: half)
            : LoopbackHttpServer.ServeWithRanges(request, stream, _content));
        using var fetcher = new PackageFetcher(Downloads);

        string path = await fetcher.FetchAsync(server.Url("models/model.tar"));

        Assert.Equal(Path.Combine(Downloads, "model.tar"), path);
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.Equal([null, half], server.Requests.OrderBy(r => r.Number).Select(r => r.RangeFrom));
        Assert.False(File.Exists(path + ".part"));
    }

    [Fact]
    public async Task FetchAsync_InterruptedCallThenNewCall_KeepsPartFileAndResumesIt()
    {
        int third = _content.Length / 3;
        await using var server = new LoopbackHttpServer((request, stream) => request.Number == 1
            ? LoopbackHttpServer.Reply(stream, 200, _content, sendOnly: third)
            : LoopbackHttpServer.ServeWithRanges(request, stream, _content));
        using var fetcher = new PackageFetcher(Downloads) { MaxAttempts = 1 };
        var url = server.Url("model.tar");

        var error = await Assert.ThrowsAsync<AgentException>(() => fetcher.FetchAsync(url));
        Assert.Equal(AgentErrorCode.FetchFailed, error.Code);
        Assert.Contains(url.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Equal(third, new FileInfo(Path.Combine(Downloads, "model.tar.part")).Length);
        Assert.False(File.Exists(Path.Combine(Downloads, "model.tar")));

        string path = await fetcher.FetchAsync(url);
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.Equal(third, server.Requests.Single(r => r.Number == 2).RangeFrom);
    }

    [Fact]
    public async Task FetchAsync_ServerIgnoresRange_RestartsFromZeroAndIsByteIdentical()
    {
        await using var server = new LoopbackHttpServer((request, stream) => request.Number == 1
            ? LoopbackHttpServer.Reply(stream, 200, _content, sendOnly: 1000)
            : LoopbackHttpServer.Reply(stream, 200, _content));
        using var fetcher = new PackageFetcher(Downloads);

        string path = await fetcher.FetchAsync(server.Url("model.tar"));

        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.Equal(1000, server.Requests.Single(r => r.Number == 2).RangeFrom);
    }

    [Fact]
    public async Task FetchAsync_NotFound_FailsNamingUrlAndStatus()
    {
        await using var server = new LoopbackHttpServer((_, stream) => LoopbackHttpServer.Reply(stream, 404, "no such model"u8.ToArray()));
        using var fetcher = new PackageFetcher(Downloads);
        var url = server.Url("missing.tar");

        var error = await Assert.ThrowsAsync<AgentException>(() => fetcher.FetchAsync(url));

        Assert.Equal(AgentErrorCode.FetchFailed, error.Code);
        Assert.Contains(url.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 404", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(Downloads));
    }

    [Fact]
    public async Task FetchAsync_AnnouncedBodyOverLimit_FailsBeforeWriting()
    {
        await using var server = new LoopbackHttpServer((_, stream) => LoopbackHttpServer.Reply(stream, 200, _content));
        using var fetcher = new PackageFetcher(Downloads, maxBytes: 100_000);

        var error = await Assert.ThrowsAsync<AgentException>(() => fetcher.FetchAsync(server.Url("big.tar")));

        Assert.Equal(AgentErrorCode.FetchFailed, error.Code);
        Assert.Contains("300000 bytes, over the limit of 100000", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Downloads));
    }

    [Fact]
    public async Task FetchAsync_UnannouncedBodyOverLimit_StopsAtLimitAndRemovesPart()
    {
        // No Content-Length: the body runs until the server closes, and the fetcher must count.
        await using var server = new LoopbackHttpServer((_, stream) => LoopbackHttpServer.Reply(stream, 200, _content, contentLength: false));
        using var fetcher = new PackageFetcher(Downloads, maxBytes: 100_000);

        var error = await Assert.ThrowsAsync<AgentException>(() => fetcher.FetchAsync(server.Url("big.tar")));

        Assert.Equal(AgentErrorCode.FetchFailed, error.Code);
        Assert.Contains("exceeds the limit of 100000", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Downloads));
    }

    [Fact]
    public async Task FetchAsync_FileUri_ReturnsExistingFileAndRefusesMissingOrOversize()
    {
        string local = Path.Combine(_dir, "local.tar");
        await File.WriteAllBytesAsync(local, _content);
        using var fetcher = new PackageFetcher(Downloads);

        Assert.Equal(local, await fetcher.FetchAsync(new Uri(local)));

        var missing = await Assert.ThrowsAsync<AgentException>(() => fetcher.FetchAsync(new Uri(Path.Combine(_dir, "nope.tar"))));
        Assert.Equal(AgentErrorCode.FetchFailed, missing.Code);
        Assert.Contains("nope.tar", missing.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);

        using var small = new PackageFetcher(Downloads, maxBytes: 1000);
        Assert.Equal(AgentErrorCode.FetchFailed, (await Assert.ThrowsAsync<AgentException>(() => small.FetchAsync(new Uri(local)))).Code);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/model.tar")]
    [InlineData("mqtt://127.0.0.1/model.tar")]
    public async Task FetchAsync_UnknownScheme_Refused(string url)
    {
        using var fetcher = new PackageFetcher(Downloads);

        var error = await Assert.ThrowsAsync<AgentException>(() => fetcher.FetchAsync(new Uri(url)));

        Assert.Equal(AgentErrorCode.FetchFailed, error.Code);
        Assert.Contains($"scheme '{new Uri(url).Scheme}' is not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FetchAsync_DiskFull_StorageFullAndNoFinalFile()
    {
        // A real ENOSPC: the .part file is a link to /dev/full, where every write fails with "No space left on device".
        Directory.CreateDirectory(Downloads);
        File.CreateSymbolicLink(Path.Combine(Downloads, "model.tar.part"), "/dev/full");
        await using var server = new LoopbackHttpServer((request, stream) => LoopbackHttpServer.ServeWithRanges(request, stream, _content));
        using var fetcher = new PackageFetcher(Downloads);

        var error = await Assert.ThrowsAsync<AgentException>(() => fetcher.FetchAsync(server.Url("model.tar")));

        Assert.Equal(AgentErrorCode.StorageFull, error.Code);
        Assert.Contains("disk is full", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Downloads, "model.tar")));
        Assert.False(File.Exists(Path.Combine(Downloads, "model.tar.part")));
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

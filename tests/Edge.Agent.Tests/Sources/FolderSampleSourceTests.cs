using System.Globalization;
using System.Text;
using EdgeTL.Agent.Sources;
using EdgeTL.Runtime;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Agent.Tests.Sources;

public sealed class FolderSampleSourceTests : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(40);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400); // 10 polls
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-inbox-folder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private FolderSampleSource Source(string domain = "target") => new(_dir, domain, Poll);

    private string Drop(string relativePath, byte[] bytes)
    {
        var path = Path.Combine(_dir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Drop(string relativePath, string photo) => Drop(relativePath, File.ReadAllBytes(RepoData.Photo(photo)));

    [Fact]
    public async Task ReadAllAsync_SubfolderAndTopLevelPhotos_LabelsFromSubfolderNames()
    {
        var cat = Drop("cat/chelsea.jpg", "chelsea.jpg");
        var cup = Drop("cup/coffee.jpg", "coffee.jpg");
        var loose = Drop("rocket.jpg", "rocket.jpg");

        var samples = await SourceReader.ReadAsync(Source("site-3"), 3, Patience);

        Assert.Equal(3, samples.Count);
        var byOrigin = samples.ToDictionary(s => s.Origin);
        Assert.Equal("cat", byOrigin["folder:" + cat].Label);
        Assert.Equal("cup", byOrigin["folder:" + cup].Label);
        Assert.Null(byOrigin["folder:" + loose].Label);
        Assert.All(samples, s => Assert.Equal("site-3", s.Domain));
        Assert.Equal(File.ReadAllBytes(RepoData.Photo("chelsea.jpg")), byOrigin["folder:" + cat].Image);
        var decoder = new ImageDecoder();
        Assert.All(samples, s => Assert.Equal(256, decoder.Decode(s.Image).Width));
    }

    [Fact]
    public async Task ReadAllAsync_ManyPolls_YieldsEachFileOnceAndMovesItToDone()
    {
        Drop("cat/chelsea.jpg", "chelsea.jpg");
        Drop("astronaut.jpg", "astronaut.jpg");

        var samples = await SourceReader.ReadForAsync(Source(), Quiet);

        Assert.Equal(2, samples.Count);
        Assert.False(File.Exists(Path.Combine(_dir, "cat", "chelsea.jpg")));
        Assert.False(File.Exists(Path.Combine(_dir, "astronaut.jpg")));
        Assert.Equal(File.ReadAllBytes(RepoData.Photo("chelsea.jpg")), File.ReadAllBytes(Path.Combine(_dir, ".done", "cat", "chelsea.jpg")));
        Assert.True(File.Exists(Path.Combine(_dir, ".done", "astronaut.jpg")));
    }

    [Fact]
    public async Task ReadAllAsync_NewInstanceAfterRestart_DoesNotReingestAndTakesOnlyNewFiles()
    {
        Drop("cat/chelsea.jpg", "chelsea.jpg");
        Assert.Single(await SourceReader.ReadAsync(Source(), 1, Patience));

        var restarted = Source();
        Assert.Empty(await SourceReader.ReadForAsync(restarted, Quiet));

        var fresh = Drop("cup/coffee.jpg", "coffee.jpg");
        var again = await SourceReader.ReadForAsync(restarted, Quiet);
        Assert.Equal(["folder:" + fresh], again.Select(s => s.Origin));
    }

    [Fact]
    public async Task ReadAllAsync_SameNameDroppedAgain_IngestsBothAndKeepsBothInDone()
    {
        var source = Source();
        Drop("cat/x.jpg", "chelsea.jpg");
        Assert.Single(await SourceReader.ReadAsync(source, 1, Patience));
        Drop("cat/x.jpg", "coffee.jpg");

        var second = await SourceReader.ReadAsync(source, 1, Patience);

        Assert.Equal(File.ReadAllBytes(RepoData.Photo("coffee.jpg")), Assert.Single(second).Image);
        Assert.Equal(File.ReadAllBytes(RepoData.Photo("chelsea.jpg")), File.ReadAllBytes(Path.Combine(_dir, ".done", "cat", "x.jpg")));
        Assert.Equal(File.ReadAllBytes(RepoData.Photo("coffee.jpg")), File.ReadAllBytes(Path.Combine(_dir, ".done", "cat", "x-1.jpg")));
    }

    [Fact]
    public async Task ReadAllAsync_FileStillBeingWritten_WaitsAndYieldsTheCompleteFileOnce()
    {
        var photo = File.ReadAllBytes(RepoData.Photo("astronaut.jpg"));
        var path = Path.Combine(_dir, "slow.jpg");
        var source = new FolderSampleSource(_dir, "target", TimeSpan.FromMilliseconds(150));
        using var cts = new CancellationTokenSource(Patience);
        var read = Task.Run(async () =>
        {
            var got = new List<IncomingSample>();
            try
            {
                await foreach (var s in source.ReadAllAsync(cts.Token))
                    got.Add(s);
            }
            catch (OperationCanceledException)
            {
            }
            return got;
        });

        // Written in 2 KB pieces every 10 ms (~110 ms per piece boundary → many polls see it grow).
        await using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite))
        {
            for (int offset = 0; offset < photo.Length; offset += 2048)
            {
                await stream.WriteAsync(photo.AsMemory(offset, Math.Min(2048, photo.Length - offset)));
                await stream.FlushAsync();
                await Task.Delay(10);
            }
        }
        await Task.Delay(TimeSpan.FromMilliseconds(700)); // ≥ 4 polls after the last write
        await cts.CancelAsync();
        var samples = await read;

        Assert.Equal(photo, Assert.Single(samples).Image);
    }

    [Fact]
    public async Task ReadAllAsync_WriterPausesLongerThanAPoll_WaitsForTheEndMarkerAndYieldsTheWholeFile()
    {
        var photo = File.ReadAllBytes(RepoData.Photo("chelsea.jpg"));
        var path = Drop("cat/paused.jpg", photo[..(photo.Length / 2)]);
        var source = Source();
        var read = SourceReader.ReadAsync(source, 1, Patience);

        await Task.Delay(TimeSpan.FromMilliseconds(300)); // ~7 polls see the half file unchanged
        Assert.True(File.Exists(path));
        await using (var stream = new FileStream(path, FileMode.Append, FileAccess.Write))
            await stream.WriteAsync(photo.AsMemory(photo.Length / 2));

        Assert.Equal(photo, Assert.Single(await read).Image);
    }

    [Fact]
    public async Task ReadAllAsync_TruncatedJpegNeverCompleted_WaitsThenMovesToFailed()
    {
        var photo = File.ReadAllBytes(RepoData.Photo("coffee.jpg"));
        var path = Drop("cup/cut.jpg", photo[..(photo.Length * 2 / 3)]);

        Assert.Empty(await SourceReader.ReadForAsync(Source(), TimeSpan.FromMilliseconds(150)));
        Assert.True(File.Exists(path)); // fewer than TruncatedAfterPolls unchanged polls: still waiting

        Assert.Empty(await SourceReader.ReadForAsync(Source(), TimeSpan.FromMilliseconds(8000))); // ≥ 11 polls even on a machine busy with other tests (2 s was not enough in CI)
        Assert.False(File.Exists(path));
        Assert.True(File.Exists(Path.Combine(_dir, ".failed", "cup", "cut.jpg")));
    }

    [Fact]
    public async Task ReadAllAsync_PngPhoto_YieldedAndTruncatedPngWaits()
    {
        using var bitmap = SkiaSharp.SKBitmap.Decode(RepoData.Photo("rocket.jpg"));
        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        var png = data.ToArray();
        var whole = Drop("rocket.png", png);
        var cut = Drop("cut.png", png[..(png.Length - 20)]);

        var samples = await SourceReader.ReadForAsync(Source(), TimeSpan.FromMilliseconds(250));

        Assert.Equal("folder:" + whole, Assert.Single(samples).Origin);
        Assert.Equal(png, samples[0].Image);
        Assert.True(File.Exists(cut));
    }

    [Fact]
    public async Task ReadAllAsync_NewFile_IsNotTakenOnTheFirstPollThatSeesIt()
    {
        Drop("rocket.jpg", "rocket.jpg");
        var source = new FolderSampleSource(_dir, "target", TimeSpan.FromSeconds(30));

        // The first scan happens at once; the second only after 30 s, so nothing can be yielded now.
        var samples = await SourceReader.ReadForAsync(source, TimeSpan.FromMilliseconds(300));

        Assert.Empty(samples);
        Assert.True(File.Exists(Path.Combine(_dir, "rocket.jpg")));
    }

    [Fact]
    public async Task ReadAllAsync_CorruptImages_MovedToFailedAndSkipped()
    {
        Drop("cat/noise.png", Encoding.ASCII.GetBytes("this is not a PNG at all, just text"));
        var truncatedPgm = Drop("cat/short.pgm", Encoding.ASCII.GetBytes("P5\n28 28\n255\n\x01\x02"));
        Drop("cat/chelsea.jpg", "chelsea.jpg");

        var samples = await SourceReader.ReadForAsync(Source(), Quiet);

        Assert.Equal("folder:" + Path.Combine(_dir, "cat", "chelsea.jpg"), Assert.Single(samples).Origin);
        Assert.True(File.Exists(Path.Combine(_dir, ".failed", "cat", "noise.png")));
        Assert.True(File.Exists(Path.Combine(_dir, ".failed", "cat", "short.pgm")));
        Assert.False(File.Exists(truncatedPgm));
    }

    [Fact]
    public async Task ReadAllAsync_UnreadableFile_MovedToFailed()
    {
        // A dangling link: listed as a file, but reading it fails (also when tests run as root).
        File.CreateSymbolicLink(Path.Combine(_dir, "broken.jpg"), Path.Combine(_dir, "gone", "x.jpg"));
        Drop("coffee.jpg", "coffee.jpg");

        var samples = await SourceReader.ReadForAsync(Source(), Quiet);

        Assert.Equal("folder:" + Path.Combine(_dir, "coffee.jpg"), Assert.Single(samples).Origin);
        Assert.Contains(Path.Combine(_dir, ".failed", "broken.jpg"), Directory.GetFiles(Path.Combine(_dir, ".failed")));
        Assert.DoesNotContain(Path.Combine(_dir, "broken.jpg"), Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task ReadAllAsync_OtherExtensionsAndHiddenFiles_AreLeftAlone()
    {
        var notes = Drop("cat/notes.txt", Encoding.ASCII.GetBytes("hello"));
        var partial = Drop("cat/.chelsea.jpg.tmp123", "chelsea.jpg");
        var hidden = Drop(".staging/coffee.jpg", "coffee.jpg");
        Drop("cat/UPPER.JPEG", "rocket.jpg");

        var samples = await SourceReader.ReadForAsync(Source(), Quiet);

        Assert.Equal("cat", Assert.Single(samples).Label);
        Assert.True(File.Exists(notes));
        Assert.True(File.Exists(partial));
        Assert.True(File.Exists(hidden));
    }

    [Fact]
    public async Task ReadAllAsync_FashionMnistAsPgm_ConvertedToPngWithTheSamePixels()
    {
        var test = FashionMnist.LoadTest();
        var expected = new Dictionary<string, byte[]>();
        for (int i = 0; i < 3; i++)
        {
            string label = test.ClassNames[test.Labels[i]].Replace('/', '-');
            var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"P5\n# fashion-mnist test {i}\n28 28\n255\n"));
            var path = Drop($"{label}/{i}.pgm", [.. header, .. test.Image(i).ToArray()]);
            expected["folder:" + path] = test.Image(i).ToArray();
        }
        // The same first image as ASCII PGM (P2) with maxval 255.
        var ascii = "P2\n28 28\n255\n" + string.Join(' ', test.Image(0).ToArray().Select(b => b.ToString(CultureInfo.InvariantCulture)));
        var asciiPath = Drop("ascii.pgm", Encoding.ASCII.GetBytes(ascii));
        expected["folder:" + asciiPath] = test.Image(0).ToArray();

        var samples = await SourceReader.ReadAsync(Source(), 4, Patience);

        Assert.Equal(4, samples.Count);
        var decoder = new ImageDecoder();
        foreach (var s in samples)
        {
            Assert.Equal("PNG", Encoding.ASCII.GetString(s.Image, 1, 3));
            var (rgb, height, width) = decoder.Decode(s.Image);
            Assert.Equal((28, 28), (height, width));
            var red = rgb.ToArray().Where((_, k) => k % 3 == 0).ToArray();
            Assert.Equal(expected[s.Origin], red);
        }
        Assert.Equal(test.ClassNames[test.Labels[0]].Replace('/', '-'), samples.Single(s => s.Origin.EndsWith("0.pgm", StringComparison.Ordinal) && s.Label is not null).Label);
    }

    [Fact]
    public void ImageDecoder_RawPgm_IsNotDecodable()
    {
        // Why the source converts PGM: the runtime's decoder (SkiaSharp) does not read it.
        var pgm = Encoding.ASCII.GetBytes("P5\n2 2\n255\n\x00\x40\x80\xff");
        var e = Assert.Throws<EdgeRuntimeException>(() => new ImageDecoder().Decode(pgm));
        Assert.Equal(RuntimeErrorCode.UndecodableImage, e.Code);
    }

    [Fact]
    public async Task ReadAllAsync_FolderMissing_CreatesItAndWaits()
    {
        var missing = Path.Combine(_dir, "not-yet");
        var source = new FolderSampleSource(missing, "target", Poll);

        Assert.Empty(await SourceReader.ReadForAsync(source, TimeSpan.FromMilliseconds(150)));
        Assert.True(Directory.Exists(missing));
    }

    [Fact]
    public void Constructor_NonPositivePollInterval_ThrowsInvalidConfiguration()
    {
        var e = Assert.Throws<AgentException>(() => new FolderSampleSource(_dir, "target", TimeSpan.Zero));
        Assert.Equal(AgentErrorCode.InvalidConfiguration, e.Code);
    }
}

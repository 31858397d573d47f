using System.Runtime.CompilerServices;
using EdgeTL.Runtime;
using EdgeTL.Runtime.Preprocessing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeTL.Agent.Sources;

/// <summary>
/// Watches a folder for image files (<c>.png .jpg .jpeg .pgm</c>, any case) by polling.
/// A file in a sub-folder gets that folder's name as its label (<c>folder/&lt;label&gt;/x.png</c>);
/// top-level files are unlabelled. A file is taken once its size and time stamp are unchanged
/// between two polls (so one still being written waits), it is not empty and, for JPEG and PNG, it ends
/// with the format's end marker (else it waits, up to <see cref="TruncatedAfterPolls"/> unchanged polls,
/// then counts as truncated); it is read, checked
/// to decode, moved to <c>.done/</c> (keeping its label folder) and then yielded — so neither this
/// instance nor a restarted one ingests it again, and a crash after the move leaves it in
/// <c>.done/</c>, not lost. Files that cannot be read or decoded go to <c>.failed/</c>.
/// PGM files are converted to PNG (the runtime's decoder does not read PGM).
/// Folders and files whose names start with a dot are ignored (temporary files of rsync and editors).
/// </summary>
public sealed partial class FolderSampleSource : ISampleSource
{
    /// <summary>The sub-folder ingested files are moved to.</summary>
    public const string DoneFolder = ".done";

    /// <summary>The sub-folder unreadable or undecodable files are moved to.</summary>
    public const string FailedFolder = ".failed";

    /// <summary>Unchanged polls after which a JPEG/PNG without its end marker is given up as truncated.</summary>
    public const int TruncatedAfterPolls = 10;

    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".pgm"];

    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates a source over <paramref name="directory"/> (created when missing, on the first poll).</summary>
    /// <param name="directory">The watched folder.</param>
    /// <param name="domain">The domain given to every sample (e.g. "target").</param>
    /// <param name="pollInterval">Time between two scans; a file is taken on the second scan that sees it unchanged.</param>
    /// <param name="time">The clock for the poll delay; <see cref="TimeProvider.System"/> by default.</param>
    /// <param name="logger">Where rejected files and move failures are logged.</param>
    public FolderSampleSource(string directory, string domain, TimeSpan pollInterval, TimeProvider? time = null, ILogger<FolderSampleSource>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        if (pollInterval <= TimeSpan.Zero)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, $"The poll interval must be positive, got {pollInterval}.");
        Directory = Path.GetFullPath(directory);
        Domain = domain;
        PollInterval = pollInterval;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The watched folder (full path).</summary>
    public string Directory { get; }

    /// <summary>The domain given to every sample.</summary>
    public string Domain { get; }

    /// <summary>Time between two scans.</summary>
    public TimeSpan PollInterval { get; }

    /// <inheritdoc/>
    public async IAsyncEnumerable<IncomingSample> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var decoder = new ImageDecoder();
        var previous = new Dictionary<string, FileState>(StringComparer.Ordinal);
        var handled = new HashSet<string>(StringComparer.Ordinal); // files whose move failed: never yield twice
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var seen = new Dictionary<string, FileState>(StringComparer.Ordinal);
            foreach (var (file, label) in Scan())
            {
                if (handled.Contains(file) || !TryStat(file, out var stat))
                    continue;
                if (!previous.TryGetValue(file, out var before) || before.Length != stat.Length || before.Written != stat.Written)
                {
                    seen[file] = stat; // new or still growing: wait for the next poll
                    continue;
                }
                stat = stat with { StablePolls = before.StablePolls + 1 };
                if (stat.Length == 0)
                {
                    seen[file] = stat; // created but not written yet
                    continue;
                }
                var sample = Take(file, label, stat.StablePolls, decoder, handled, out bool wait);
                if (wait)
                    seen[file] = stat;
                else if (sample is not null)
                    yield return sample;
            }
            previous = seen;
            await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private IEnumerable<(string File, string? Label)> Scan()
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogFolderUnavailable(_logger, Directory, e);
            yield break;
        }
        foreach (var file in ImageFiles(Directory))
            yield return (file, null);
        foreach (var sub in Listing(() => System.IO.Directory.GetDirectories(Directory)))
        {
            var label = Path.GetFileName(sub);
            if (label.StartsWith('.'))
                continue;
            foreach (var file in ImageFiles(sub))
                yield return (file, label);
        }
    }

    private static IEnumerable<string> ImageFiles(string folder) =>
        Listing(() => System.IO.Directory.GetFiles(folder)).Where(f =>
            !Path.GetFileName(f).StartsWith('.')
            && Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase));

    private static string[] Listing(Func<string[]> list)
    {
        try
        {
            var items = list();
            Array.Sort(items, StringComparer.Ordinal);
            return items;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static bool TryStat(string file, out FileState stat)
    {
        try
        {
            var info = new FileInfo(file);
            stat = new FileState(info.Length, info.LastWriteTimeUtc, 0);
            return info.Exists;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stat = default;
            return false;
        }
    }

    /// <summary>
    /// Reads, checks and moves one stable file; null when it was rejected (moved to .failed) or, with
    /// <paramref name="wait"/> set, when it is a truncated JPEG/PNG that may still be completed.
    /// </summary>
    private IncomingSample? Take(string file, string? label, int stablePolls, ImageDecoder decoder, HashSet<string> handled, out bool wait)
    {
        wait = false;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogRejected(_logger, file, e.Message);
            Move(file, FailedFolder, handled);
            return null;
        }

        if (!ImageCompleteness.IsComplete(bytes))
        {
            // The runtime's decoder accepts a truncated JPEG/PNG (the missing part comes out gray), so a writer
            // that paused longer than a poll must not get its half-written file ingested: wait for the end marker.
            if (stablePolls < TruncatedAfterPolls)
            {
                wait = true;
                return null;
            }
            LogRejected(_logger, file, $"truncated image (no end marker after {stablePolls} unchanged polls)");
            Move(file, FailedFolder, handled);
            return null;
        }

        if (PgmImage.IsPgm(bytes) && !PgmImage.TryConvertToPng(bytes, out bytes))
        {
            LogRejected(_logger, file, "malformed PGM");
            Move(file, FailedFolder, handled);
            return null;
        }
        try
        {
            decoder.Decode(bytes);
        }
        catch (EdgeRuntimeException e)
        {
            LogRejected(_logger, file, e.Message);
            Move(file, FailedFolder, handled);
            return null;
        }

        if (!Move(file, DoneFolder, handled))
            return null; // could not record it as done: yielding it would re-ingest it after a restart
        return new IncomingSample { Image = bytes, Label = label, Domain = Domain, Origin = "folder:" + file };
    }

    /// <summary>Moves a file to <c>&lt;directory&gt;/&lt;target&gt;/&lt;its relative path&gt;</c>, adding a suffix when the name is taken.</summary>
    private bool Move(string file, string target, HashSet<string> handled)
    {
        var relative = Path.GetRelativePath(Directory, file);
        var destination = Path.Combine(Directory, target, relative);
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            var stem = Path.Combine(Path.GetDirectoryName(destination)!, Path.GetFileNameWithoutExtension(destination));
            var extension = Path.GetExtension(destination);
            for (int n = 1; File.Exists(destination); n++)
                destination = $"{stem}-{n}{extension}";
            File.Move(file, destination);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogMoveFailed(_logger, file, destination, e);
            handled.Add(file); // a file that cannot be moved is skipped by this instance from now on
            return false;
        }
    }

    private readonly record struct FileState(long Length, DateTime Written, int StablePolls);

    [LoggerMessage(EventId = 5002, EventName = "SampleFolderUnreadable", Level = LogLevel.Warning, Message = "Sample folder {Folder} cannot be created or read.")]
    private static partial void LogFolderUnavailable(ILogger logger, string folder, Exception exception);

    [LoggerMessage(EventId = 5003, EventName = "SampleFileRejected", Level = LogLevel.Warning, Message = "Rejected {File}: {Reason}; moving it to .failed.")]
    private static partial void LogRejected(ILogger logger, string file, string reason);

    [LoggerMessage(EventId = 5004, EventName = "SampleFileNotMoved", Level = LogLevel.Error, Message = "Could not move {File} to {Destination}; it is skipped until restart.")]
    private static partial void LogMoveFailed(ILogger logger, string file, string destination, Exception exception);
}

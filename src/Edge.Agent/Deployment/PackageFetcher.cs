using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace EdgeTL.Agent.Deployment;

/// <summary>
/// Brings a model package onto the device. <c>file://</c> sources are checked where they are;
/// <c>http(s)://</c> sources stream into <c>&lt;name&gt;.part</c> in the download folder, resume
/// with an HTTP <c>Range</c> request after an interrupted transfer (within a call, and across
/// calls), and are renamed to <c>&lt;name&gt;</c> only once every announced byte has arrived.
/// </summary>
/// <remarks>
/// The fetcher does not trust what it downloads: the store verifies the package's signature
/// and hashes before anything is unpacked. Size and completeness are the fetcher's business.
/// </remarks>
public sealed class PackageFetcher : IDisposable
{
    /// <summary>Default largest package accepted: 1 GiB.</summary>
    public const long DefaultMaxBytes = 1L << 30;

    private const int Enospc = 28;
    private const int WindowsDiskFull = 112;
    private const int WindowsHandleDiskFull = 39;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates a fetcher that downloads into <paramref name="downloadDirectory"/> (created if missing).</summary>
    /// <param name="downloadDirectory">Folder for partial and complete downloads.</param>
    /// <param name="http">Client to use (not disposed by the fetcher); null creates one the fetcher owns.</param>
    /// <param name="maxBytes">Largest package accepted, in bytes.</param>
    public PackageFetcher(string downloadDirectory, HttpClient? http = null, long maxBytes = DefaultMaxBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(downloadDirectory);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        DownloadDirectory = Path.GetFullPath(downloadDirectory);
        Directory.CreateDirectory(DownloadDirectory);
        MaxBytes = maxBytes;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient();
    }

    /// <summary>Folder holding partial (<c>.part</c>) and complete downloads.</summary>
    public string DownloadDirectory { get; }

    /// <summary>Largest package accepted, in bytes.</summary>
    public long MaxBytes { get; }

    /// <summary>HTTP attempts per call (the first plus resumes after a dropped connection); at least 1.</summary>
    public int MaxAttempts
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 3;

    /// <summary>
    /// Fetches <paramref name="source"/> and returns the path of the complete local file: the
    /// source's own path for <c>file://</c>, a file in <see cref="DownloadDirectory"/> for HTTP(S).
    /// </summary>
    /// <exception cref="AgentException">
    /// <see cref="AgentErrorCode.FetchFailed"/>: unknown scheme, missing file, HTTP error, body over
    /// <see cref="MaxBytes"/>, or a transfer still incomplete after <see cref="MaxAttempts"/>;
    /// <see cref="AgentErrorCode.StorageFull"/>: the disk filled up (the partial download is removed).
    /// </exception>
    public async Task<string> FetchAsync(Uri source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.IsAbsoluteUri)
            throw Failed(source, "the address is not absolute");
        if (source.IsFile)
            return CheckLocal(source);
        if (source.Scheme != Uri.UriSchemeHttp && source.Scheme != Uri.UriSchemeHttps)
            throw Failed(source, $"the scheme '{source.Scheme}' is not supported (file, http, https)");
        return await DownloadAsync(source, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
            _http.Dispose();
    }

    private string CheckLocal(Uri source)
    {
        string path = source.LocalPath;
        if (File.Exists(path))
        {
            long length = new FileInfo(path).Length;
            if (length > MaxBytes)
                throw Failed(source, $"{length} bytes exceed the limit of {MaxBytes}");
            return path;
        }
        if (Directory.Exists(path))
            return path; // a package in directory form; the store verifies each file's size and hash
        throw Failed(source, "the file does not exist");
    }

    private async Task<string> DownloadAsync(Uri source, CancellationToken cancellationToken)
    {
        string name = FileName(source);
        string final = Path.Combine(DownloadDirectory, name);
        string part = final + ".part";
        if (File.Exists(final))
            File.Delete(final); // never serve a stale copy: the address may now hold another package
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    if (await TryTransferAsync(source, part, cancellationToken).ConfigureAwait(false))
                    {
                        File.Move(part, final, overwrite: true);
                        return final;
                    }
                }
                catch (Exception e) when (IsInterruption(e, cancellationToken) && attempt < MaxAttempts)
                {
                    // The connection dropped: the next attempt resumes from what the .part file holds.
                }
                catch (Exception e) when (IsInterruption(e, cancellationToken))
                {
                    throw Failed(source, $"the transfer was interrupted {attempt} times ({e.Message}); {PartLength(part)} bytes kept for a later resume", e);
                }
                if (attempt >= MaxAttempts)
                    throw Failed(source, $"still incomplete after {attempt} attempts; {PartLength(part)} bytes kept for a later resume");
            }
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            TryDelete(part);
            TryDelete(final);
            throw new AgentException(AgentErrorCode.StorageFull, $"Fetching {source} failed: the disk is full in {DownloadDirectory} ({e.Message}); the partial download was removed.", e);
        }
    }

    /// <summary>One request; true when the .part file is complete, false when a retry should continue it.</summary>
    private async Task<bool> TryTransferAsync(Uri source, string part, CancellationToken cancellationToken)
    {
        long have = PartLength(part);
        using var request = new HttpRequestMessage(HttpMethod.Get, source);
        if (have > 0)
            request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);

        long offset;
        long? total;
        if (response.StatusCode == HttpStatusCode.PartialContent && have > 0)
        {
            var range = response.Content.Headers.ContentRange;
            if (range?.From != have)
            {
                // A range we did not ask for: start over rather than splice bytes at the wrong place.
                TryDelete(part);
                return false;
            }
            offset = have;
            total = range.Length ?? (response.Content.Headers.ContentLength is long rest ? have + rest : null);
        }
        else if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
        {
            // What we hold is not a prefix of what the server has now.
            TryDelete(part);
            return false;
        }
        else if (response.IsSuccessStatusCode)
        {
            offset = 0; // 200: the server ignored the range (or there was none) and sends everything
            total = response.Content.Headers.ContentLength;
        }
        else
        {
            throw Failed(source, string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}"));
        }
        if (total > MaxBytes)
        {
            TryDelete(part);
            throw Failed(source, $"the server announces {total} bytes, over the limit of {MaxBytes}");
        }

        long written = offset;
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            var file = new FileStream(part, offset == 0 ? FileMode.Create : FileMode.Append, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    written += read;
                    if (written > MaxBytes)
                    {
                        await file.DisposeAsync().ConfigureAwait(false);
                        TryDelete(part);
                        throw Failed(source, $"the body exceeds the limit of {MaxBytes} bytes");
                    }
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
        }
        if (total is long expected && written != expected)
        {
            if (written > expected)
            {
                TryDelete(part);
                throw Failed(source, $"received {written} bytes, more than the announced {expected}");
            }
            return false;
        }
        return true;
    }

    /// <summary>A dropped connection, a reset, a premature end or a client timeout: worth resuming.</summary>
    private static bool IsInterruption(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && e switch
        {
            HttpRequestException => true,
            IOException io => !IsDiskFull(io),
            OperationCanceledException => true, // HttpClient.Timeout, not the caller
            _ => false,
        };

    private static bool IsDiskFull(IOException e) =>
        e.HResult == Enospc || (e.HResult & 0xFFFF) is WindowsDiskFull or WindowsHandleDiskFull;

    private static string FileName(Uri source)
    {
        string name = Path.GetFileName(Uri.UnescapeDataString(source.AbsolutePath));
        if (string.IsNullOrWhiteSpace(name) || name is "." or ".." || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            name = "package";
        return name;
    }

    private static long PartLength(string part) => File.Exists(part) ? new FileInfo(part).Length : 0;

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover .part is resumed or overwritten by the next fetch.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }

    private static AgentException Failed(Uri source, string reason, Exception? inner = null) =>
        new(AgentErrorCode.FetchFailed, $"Fetching {source} failed: {reason}.", inner);
}

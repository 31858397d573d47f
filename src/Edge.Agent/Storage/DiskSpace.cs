namespace EdgeTL.Agent.Storage;

/// <summary>Recognizes "no space left on device" among I/O errors.</summary>
internal static class DiskSpace
{
    /// <summary>errno ENOSPC, "No space left on device", as an <see cref="IOException"/>'s HResult.</summary>
    public const int Enospc = 28;

    /// <summary>Bytes an unprivileged process may still write on the file system holding <paramref name="directory"/>.</summary>
    public static long FreeBytes(string directory) => new DriveInfo(directory).AvailableFreeSpace;

    /// <summary>True when <paramref name="e"/> (or an inner exception) is ENOSPC / disk full.</summary>
    public static bool IsFull(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is IOException io && ((io.HResult & 0xFFFF) == Enospc || io.HResult == unchecked((int)0x80070070)
                || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)))
                return true;
        }
        return false;
    }
}

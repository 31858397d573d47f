using System.Diagnostics;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// A small size-limited filesystem (tmpfs) mounted on a fresh folder, for disk-full tests:
/// <see cref="Fill"/> writes a filler file until the kernel answers ENOSPC, <see cref="Free"/>
/// deletes it. Mounting needs root (or password-less <c>sudo -n</c>); without it the test fails
/// with a message saying so. Unmounted on dispose.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string root)
    {
        Root = root;
        Path = System.IO.Path.Combine(root, "fs");
        Filler = System.IO.Path.Combine(Path, "filler.bin");
    }

    /// <summary>The folder under which the tmpfs is mounted.</summary>
    public string Root { get; }

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>The filler file.</summary>
    public string Filler { get; }

    /// <summary>Mounts a tmpfs of <paramref name="megabytes"/> MiB.</summary>
    public static TmpfsMount Create(int megabytes)
    {
        var mount = new TmpfsMount(Directory.CreateTempSubdirectory("edgetl-diskfull-").FullName);
        Directory.CreateDirectory(mount.Path);
        var (code, error) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", mount.Path);
        if (code != 0)
        {
            Directory.Delete(mount.Root, recursive: true);
            throw new InvalidOperationException($"Cannot mount a {megabytes} MiB tmpfs on {mount.Path} (exit {code}: {error.Trim()}). "
                + "The disk-full test needs root or password-less sudo (sudo -n mount).");
        }
        return mount;
    }

    /// <summary>
    /// Writes the filler until the filesystem is full (or, with <paramref name="leaveFreeBytes"/>,
    /// until about that much is left); returns its size in bytes.
    /// </summary>
    public long Fill(long leaveFreeBytes = 0)
    {
        var chunk = new byte[1 << 16];
        Array.Fill(chunk, (byte)0x5A);
        using var stream = new FileStream(Filler, FileMode.Append, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        if (leaveFreeBytes > 0)
        {
            while (FreeBytes - chunk.Length > leaveFreeBytes)
                stream.Write(chunk);
            return stream.Length;
        }
        try
        {
            while (true)
                stream.Write(chunk);
        }
        catch (IOException)
        {
            // ENOSPC: full (a partial chunk may have been written).
        }
        // The last bytes, one at a time, so not even a small write fits.
        try
        {
            while (true)
            {
                stream.WriteByte(0x5A);
                stream.Flush();
            }
        }
        catch (IOException)
        {
        }
        return new FileInfo(Filler).Length;
    }

    /// <summary>Free bytes on the filesystem.</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Deletes the filler: space returns.</summary>
    public void Free() => File.Delete(Filler);

    public void Dispose()
    {
        var (code, error) = Run("umount", Path);
        if (code != 0)
            (code, error) = Run("umount", "-l", Path);
        if (code == 0)
            Directory.Delete(Root, recursive: true);
        else
            throw new InvalidOperationException($"Cannot unmount {Path}: {error.Trim()}");
    }

    private static (int Code, string Error) Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.IsPrivilegedProcess ? tool : "sudo") { RedirectStandardError = true, RedirectStandardOutput = true };
        if (!Environment.IsPrivilegedProcess)
        {
            start.ArgumentList.Add("-n");
            start.ArgumentList.Add(tool);
        }
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            string error = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}

using System.Runtime.InteropServices;

namespace EdgeTL.Trainer;

/// <summary>
/// Keeps glibc from hoarding freed tensor memory. libtorch frees activation buffers every step;
/// glibc's default raises its mmap threshold after such frees, so later large buffers come
/// from heap arenas that are never returned to the system and resident memory climbs by
/// gigabytes over a few thousand steps (measured: +7 GB over 1,000 ResNet-18 steps under the
/// test host, flat after <c>malloc_trim</c>, so not a leak). A fixed 8 MiB threshold makes large
/// buffers plain mmaps that go back to the system when freed, and two arenas stop every
/// libtorch worker thread from keeping a heap of its own. A 1 MiB threshold bounded memory
/// too but slowed batch-64 training by about half (page faults on every activation buffer).
/// </summary>
public static partial class AllocatorPolicy
{
    private const int MmapThresholdOption = -3; // M_MMAP_THRESHOLD in glibc's malloc.h
    private const int ArenaMaxOption = -8;      // M_ARENA_MAX

    /// <summary>
    /// Sets a fixed mmap threshold and an arena limit (process-wide, idempotent). Returns false
    /// where it does not apply (not Linux, or a C library without <c>mallopt</c>, e.g. musl).
    /// </summary>
    public static bool BoundRetention(int mmapThresholdBytes = 8 << 20, int maxArenas = 2)
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            return mallopt(MmapThresholdOption, mmapThresholdBytes) == 1 & mallopt(ArenaMaxOption, maxArenas) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Returns freed heap memory to the system (<c>malloc_trim(0)</c>); called when a training
    /// run ends, so a long-lived agent gives back what a job used. False where it does not apply.
    /// </summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            return malloc_trim(0) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}

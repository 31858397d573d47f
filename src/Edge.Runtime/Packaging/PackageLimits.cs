namespace EdgeTL.Runtime.Packaging;

/// <summary>Size limits a package must respect; checked from headers before data is read.</summary>
public sealed record PackageLimits
{
    /// <summary>Largest single file (default 512 MiB).</summary>
    public long MaxFileBytes { get; init; } = 512L << 20;

    /// <summary>Largest package (default 1 GiB).</summary>
    public long MaxPackageBytes { get; init; } = 1L << 30;

    /// <summary>Largest manifest (default 1 MiB).</summary>
    public long MaxManifestBytes { get; init; } = 1 << 20;

    /// <summary>Most files in one package.</summary>
    public int MaxFiles { get; init; } = 64;
}

namespace EdgeTL.Runtime.Packaging;

/// <summary>Why a package was refused; each refusal names exactly one.</summary>
public enum PackageRejection
{
    /// <summary>The archive ends early.</summary>
    Truncated,
    /// <summary>The archive's structure is broken (bad header checksum, non-zero padding, stray bytes…).</summary>
    Malformed,
    /// <summary>An entry name leaves the package root (absolute, '..').</summary>
    PathTraversal,
    /// <summary>An entry is a symbolic or hard link.</summary>
    Link,
    /// <summary>An entry, the manifest or the whole package exceeds its size limit.</summary>
    TooLarge,
    /// <summary>The manifest or its signature is missing.</summary>
    NotSigned,
    /// <summary>The signature's key is not among the trusted keys.</summary>
    UntrustedKey,
    /// <summary>The signature does not verify over the manifest's bytes.</summary>
    BadSignature,
    /// <summary>The (signed) manifest is not valid.</summary>
    InvalidManifest,
    /// <summary>The counter is lower than the installed model's.</summary>
    Rollback,
    /// <summary>A listed file is missing.</summary>
    MissingFile,
    /// <summary>A file is present that the manifest does not list.</summary>
    UnexpectedFile,
    /// <summary>A file's size or SHA-256 differs from the manifest.</summary>
    HashMismatch,
}

/// <summary>A package was refused before anything was unpacked; <see cref="Reason"/> says why.</summary>
public sealed class PackageRejectedException : EdgeRuntimeException
{
    /// <summary>Creates the exception.</summary>
    public PackageRejectedException(PackageRejection reason, string message)
        : base(RuntimeErrorCode.PackageRejected, $"Package rejected ({reason}): {message}") => Reason = reason;

    /// <summary>Why.</summary>
    public PackageRejection Reason { get; }
}

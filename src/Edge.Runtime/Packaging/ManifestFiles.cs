namespace EdgeTL.Runtime.Packaging;

/// <summary>Fixed names inside a package.</summary>
public static class ManifestFiles
{
    /// <summary>The manifest; the first entry of a package archive.</summary>
    public const string Manifest = "manifest.json";

    /// <summary>The detached signature over the manifest's bytes; the second entry.</summary>
    public const string Signature = "manifest.sig";
}

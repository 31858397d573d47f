namespace EdgeTL.Runtime.Packaging;

/// <summary>The only file names a package may hold: relative, '/'-separated, no '..', no oddities.</summary>
public static class PackagePaths
{
    /// <summary>Longest path accepted (ustar's name field).</summary>
    public const int MaxLength = 100;

    /// <summary>Null when <paramref name="path"/> is acceptable, else why not.</summary>
    public static string? Problem(string? path)
    {
        if (string.IsNullOrEmpty(path))
            return "empty path";
        if (path.Length > MaxLength)
            return $"longer than {MaxLength} characters";
        if (path[0] == '/' || path.Contains('\\', StringComparison.Ordinal) || path.Contains(':', StringComparison.Ordinal))
            return "absolute or not '/'-separated";
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or "." or "..")
                return "contains an empty, '.' or '..' segment";
            if (segment.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
                return "contains characters other than A-Z a-z 0-9 . _ -";
        }
        return null;
    }

    /// <summary>True when the path tries to leave the package root.</summary>
    public static bool IsTraversal(string path) =>
        path.StartsWith('/') || path.Contains('\\', StringComparison.Ordinal) || path.Contains(':', StringComparison.Ordinal)
        || path.Split('/').Any(s => s == "..");
}

using System.Globalization;

namespace EdgeTL.Agent.Resources;

/// <summary>Small, non-throwing helpers for reading sysfs and procfs files.</summary>
internal static class SysfsFiles
{
    /// <summary>Sub-folders of <paramref name="root"/> matching <paramref name="pattern"/>, sorted; none when the root is missing or unreadable.</summary>
    public static string[] Directories(string root, string pattern)
    {
        try
        {
            // sysfs class entries are symbolic links to folders; GetDirectories lists them.
            var found = Directory.GetDirectories(root, pattern);
            Array.Sort(found, StringComparer.Ordinal);
            return found;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Files in <paramref name="directory"/> matching <paramref name="pattern"/>, sorted; none on error.</summary>
    public static string[] Files(string directory, string pattern)
    {
        try
        {
            var found = Directory.GetFiles(directory, pattern);
            Array.Sort(found, StringComparer.Ordinal);
            return found;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Reads a whole small text file; false when it is missing or unreadable.</summary>
    public static bool TryReadText(string path, out string text)
    {
        try
        {
            text = File.ReadAllText(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            text = string.Empty;
            return false;
        }
    }

    /// <summary>Reads a file holding one number (sysfs style, trailing newline allowed); false when missing, unreadable or not a finite number.</summary>
    public static bool TryReadDouble(string path, out double value)
    {
        value = 0;
        return TryReadText(path, out var text)
            && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && double.IsFinite(value);
    }
}

using System.Globalization;

namespace EdgeTL.Cloud;

/// <summary>Parses class lists such as <c>0-4</c> or <c>5,7,9</c>.</summary>
internal static class ClassList
{
    public static int[] Parse(string text)
    {
        var result = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var range = part.Split('-', StringSplitOptions.TrimEntries);
            if (range.Length == 2 && int.TryParse(range[0], CultureInfo.InvariantCulture, out int a) && int.TryParse(range[1], CultureInfo.InvariantCulture, out int b) && a <= b)
                result.AddRange(Enumerable.Range(a, b - a + 1));
            else if (range.Length == 1 && int.TryParse(range[0], CultureInfo.InvariantCulture, out int c))
                result.Add(c);
            else
                throw new FormatException($"'{part}' is not a class number or range (e.g. 0-4 or 5,7,9).");
        }
        if (result.Count == 0)
            throw new FormatException("The class list is empty.");
        return [.. result];
    }
}

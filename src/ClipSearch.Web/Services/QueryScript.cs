namespace ClipSearch.Web.Services;

/// <summary>Whether a query is written mostly outside the Latin script (CLIP ViT-B/32 understands English only).</summary>
public static class QueryScript
{
    /// <summary>Highest code point of the Latin blocks (Basic Latin to Latin Extended-B).</summary>
    private const int LatinEnd = 0x024F;

    /// <summary>True when more than half of the letters in <paramref name="text"/> are not Latin.</summary>
    public static bool MostlyNonLatin(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        int letters = 0, other = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (System.Text.Rune.IsLetter(rune))
            {
                letters++;
                if (rune.Value > LatinEnd && rune.Value is not (>= 0x1E00 and <= 0x1EFF))
                {
                    other++;
                }
            }
        }

        return letters > 0 && other * 2 > letters;
    }
}

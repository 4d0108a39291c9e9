using System.Text.Json;

namespace ClipSearch.Core.Tests.Tokenization;

/// <summary>One case of shared/fixtures/tokenizer_cases.json.</summary>
public sealed record TokenizerCase(
    int Index,
    string Text,
    int[] Ids,
    int[] OpenAiReferenceIds,
    int[] Padded77InputIds,
    int[] Padded77AttentionMask)
{
    public override string ToString() => $"#{Index} {Text[..Math.Min(Text.Length, 40)]}";
}

/// <summary>Reads tokenizer_cases.json once.</summary>
internal static class TokenizerCases
{
    private static readonly Lazy<IReadOnlyList<TokenizerCase>> AllCases = new(Load);

    public static IReadOnlyList<TokenizerCase> All => AllCases.Value;

    /// <summary>xunit member data: the case indices.</summary>
    public static TheoryData<int> Indices()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < All.Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    private static List<TokenizerCase> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Path("tokenizer_cases.json")));
        var cases = new List<TokenizerCase>();
        foreach (var item in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            cases.Add(new TokenizerCase(
                cases.Count,
                item.GetProperty("text").GetString()!,
                Ints(item.GetProperty("ids")),
                Ints(item.GetProperty("openai_reference_ids")),
                Ints(item.GetProperty("padded77_input_ids")),
                Ints(item.GetProperty("padded77_attention_mask"))));
        }

        return cases;
    }

    private static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];
}

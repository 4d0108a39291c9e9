namespace ClipSearch.Web.Tests;

/// <summary>
/// The full-size CLIP ViT-B/32 with random weights (real shapes, meaningless vectors) that <c>./test</c> makes once
/// with <c>../shared/tools/make-random-vit-b-32.mjs</c> and names in <c>CLIPSEARCH_TEST_VIT_B_32</c>: what the
/// Immich routes need (they serve ViT-B/32 only, 512-d). Without it a test is skipped, except under <c>CI=true</c>,
/// where it fails. The tests load its quantized variant (a quarter of the memory, the same geometry).
/// </summary>
internal static class FullSizeModel
{
    public const string Variable = "CLIPSEARCH_TEST_VIT_B_32";

    /// <summary>The model folder; skips (or, under CI, fails) the test when there is none.</summary>
    public static string Path()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(value) || !File.Exists(System.IO.Path.Combine(value, "config.json")))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"{Variable} does not name a model folder under CI: ./test makes one with ../shared/tools/make-random-vit-b-32.mjs and exports it.");
            }

            Skip.If(true, $"{Variable} is not set (./test sets it to the random-weight ViT-B/32 it makes with ../shared/tools/make-random-vit-b-32.mjs).");
        }

        return value!;
    }

    /// <summary>Whether the model is there (for fixtures, which cannot skip).</summary>
    public static bool Available =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value && File.Exists(System.IO.Path.Combine(value, "config.json"));
}

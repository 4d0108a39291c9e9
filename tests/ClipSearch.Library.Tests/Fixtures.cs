namespace ClipSearch.Library.Tests;

/// <summary>Paths into ../shared/fixtures (the reference outputs of the Python stack; never edited).</summary>
internal static class Fixtures
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("CLIPSEARCH_FIXTURES");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        // Walk up from the test binaries to the repository (the folder with ClipSearch.slnx); shared/ sits beside it.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "ClipSearch.slnx")))
            {
                var fixtures = System.IO.Path.Combine(dir.FullName, "..", "shared", "fixtures");
                if (Directory.Exists(fixtures))
                {
                    return System.IO.Path.GetFullPath(fixtures);
                }
            }
        }

        throw new DirectoryNotFoundException(
            "../shared/fixtures not found beside the repository; set CLIPSEARCH_FIXTURES to its path.");
    }
}

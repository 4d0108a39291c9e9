using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ClipSearch.Web.Tests;

/// <summary>Test servers (in memory) on the tiny random CLIP, and multipart bodies.</summary>
internal static class TinyClip
{
    private static readonly Lazy<TempFolder> ScratchHome = new(() =>
    {
        var folder = new TempFolder();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => folder.Dispose();
        return folder;
    });

    public static string ModelPath => Fixtures.Path("tiny-clip");

    public static string Image(string name) => Fixtures.Path("images", name);

    /// <summary>A test server; <paramref name="loaded"/> loads tiny-clip at start.</summary>
    public static WebApplicationFactory<Program> Server(bool loaded = true, params (string Key, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            if (loaded)
            {
                builder.UseSetting("ClipSearch:ModelPath", ModelPath);
            }

            builder.UseSetting("ClipSearch:Threads", "1");
            // Caches go to a scratch home, never to the user's (a test's own settings may replace it).
            builder.UseSetting("ClipSearch:Home", ScratchHome.Value.Path);
            // No watcher unless a test asks for one: a test that changes files and indexes again must not race it.
            builder.UseSetting("ClipSearch:Watch", "false");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        });

    public static MultipartFormDataContent Form(IEnumerable<string> imagePaths, IEnumerable<string> texts, string imageField = "images", string textField = "texts")
    {
        var form = new MultipartFormDataContent();
        foreach (var path in imagePaths)
        {
            var file = new ByteArrayContent(File.ReadAllBytes(path));
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, imageField, System.IO.Path.GetFileName(path));
        }

        foreach (var text in texts)
        {
            form.Add(new StringContent(text), textField);
        }

        return form;
    }
}

namespace ClipSearch.Library.Tests;

/// <summary>A scratch folder deleted on dispose; <see cref="CopyOf"/> copies a fixture folder to break it safely.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "clipsearch-tests-" + Guid.NewGuid().ToString("N"));

    public static TempFolder CopyOf(string source)
    {
        var temp = new TempFolder();
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = System.IO.Path.Combine(temp.Path, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            System.IO.File.Copy(file, target);
            System.IO.File.SetAttributes(target, FileAttributes.Normal);
        }

        return temp;
    }

    public string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

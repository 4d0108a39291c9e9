using ClipSearch.Core;
using ClipSearch.Core.Imaging;

namespace ClipSearch.Cli;

/// <summary>Turns the image arguments of a command into files: a folder stands for the images in it, recursively.</summary>
internal static class ImageFiles
{
    public static List<string> Expand(IEnumerable<string> arguments)
    {
        var files = new List<string>();
        foreach (var argument in arguments)
        {
            if (Directory.Exists(argument))
            {
                var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
                files.AddRange(Directory.EnumerateFiles(argument, "*", options)
                    .Where(f => ImageLoader.FileExtensions.Contains(Path.GetExtension(f)))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(argument))
            {
                files.Add(argument);
            }
            else
            {
                throw new ClipSearchException($"{argument}: no such file or folder.");
            }
        }

        return files;
    }
}

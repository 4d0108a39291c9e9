using ClipSearch.Core;
using ClipSearch.Library.Indexing;

namespace ClipSearch.Cli;

/// <summary>
/// Turns the image arguments of a command into files: a folder stands for the images in it, listed by
/// <see cref="FolderWalker"/>, the one enumerator <c>index</c> and the web use too (same files, same symbolic-link
/// policy: docs/files.md).
/// </summary>
internal static class ImageArguments
{
    /// <summary>
    /// The files of <paramref name="arguments"/>, each folder's images in ordinal order, written under the folder as
    /// it was typed. An image name the walker reports with a problem (a FIFO, a device, a dangling link, a file over
    /// the size limit) is kept, so that it fails as an input that could not be read; a folder below one given that
    /// could not be listed is a warning. What the folders' walks passed over (files that are not images, camera raw
    /// files with a JPEG or HEIC beside them) is said on stderr, as <c>index</c> says it: stdout may be JSON.
    /// </summary>
    public static List<string> Expand(IEnumerable<string> arguments)
    {
        var files = new List<string>();
        var skipped = new List<SkippedFiles>();
        foreach (var argument in arguments)
        {
            if (Directory.Exists(argument))
            {
                var root = FolderWalker.FullPath(argument);
                var listing = FolderWalker.List(root);
                skipped.Add(listing.Skipped);
                foreach (var file in listing.Files)
                {
                    if (file.IsFolder)
                    {
                        Output.Warn(file.Problem!);
                    }
                    else
                    {
                        files.Add(Path.Join(argument, Path.GetRelativePath(root, file.Path)));
                    }
                }
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

        foreach (var line in SkippedText.Lines(SkippedFiles.Sum(skipped)))
        {
            Console.Error.WriteLine(line);
        }

        return files;
    }
}

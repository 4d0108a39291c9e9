using System.CommandLine;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.IO;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch preprocess [--exact] IMAGE... --out DIR</c>: the 224×224 image the model sees, as PNG.</summary>
internal static class PreprocessCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("image") { Description = "Image files or folders.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Folder for <stem>.png files (created if needed).", Required = true };
        var exact = new Option<bool>("--exact") { Description = "Always decode at full size (no reduced-DCT fast path for large JPEGs)." };
        var noExif = new Option<bool>("--no-exif") { Description = "Ignore EXIF orientation (as openai/CLIP and transformers do)." };
        var model = new Option<DirectoryInfo?>("--model", "-m") { Description = "Use this model folder's preprocessor_config.json (default: CLIP's)." };
        var command = new Command("preprocess", "Write the 224×224 RGB image the model sees for each image (resize, centre crop).")
        {
            images, output, exact, noExif, model,
        };
        command.SetAction((result, cancellationToken) => Task.FromResult(Run(result, cancellationToken)));
        return command;

        int Run(ParseResult result, CancellationToken cancellationToken)
        {
            var config = result.GetValue(model) is { } dir && File.Exists(Path.Combine(dir.FullName, "preprocessor_config.json"))
                ? PreprocessConfig.FromFile(Path.Combine(dir.FullName, "preprocessor_config.json"))
                : PreprocessConfig.Default;
            var options = new ImageLoadOptions { Exact = result.GetValue(exact), ApplyExifOrientation = !result.GetValue(noExif) };
            var outDir = OutputFolder(result.GetRequiredValue(output).FullName);
            var failed = 0;
            foreach (var file in ImageArguments.Expand(result.GetRequiredValue(images)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                RgbImage crop;
                try
                {
                    crop = ImageLoader.LoadCrop(file, config, options, cancellationToken);   // Ctrl-C ends a read that hangs
                }
                catch (ClipSearchException e)
                {
                    Output.Warn(e.Message);   // an input that cannot be used: the others go on (exit 3)
                    failed++;
                    continue;
                }

                var target = Path.Combine(outDir, Path.GetFileNameWithoutExtension(file) + ".png");
                CheckTarget(target);
                try
                {
                    File.WriteAllBytes(target, ImageEncoder.Png(crop));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The output cannot be written (disk full, a folder where the file goes): no point going on.
                    throw new ClipSearchException($"Cannot write {target}: {e.Message}", e);
                }

                Console.WriteLine(target);
            }

            return failed > 0 ? CliApp.PartlyFailed : CliApp.Ok;
        }
    }

    /// <summary>
    /// Refuses to write through what is already at <paramref name="target"/> unless it is a regular file: writing to
    /// a FIFO waits for a reader forever, and writing to a symbolic link replaces the file it points to.
    /// </summary>
    private static void CheckTarget(string target)
    {
        FileStat stat;
        try
        {
            stat = FileStat.Get(target, followLinks: false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;   // a new file
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClipSearchException($"Cannot write {target}: {e.Message}", e);
        }

        if (stat.Kind != FileKind.Regular)
        {
            var what = stat.Kind == FileKind.SymbolicLink && new FileInfo(target).LinkTarget is { } to
                ? $"a symbolic link to {to}"
                : FileStat.Describe(stat.Kind);
            throw new ClipSearchException($"Cannot write {target}: it is {what}, not a regular file; it was left as it is.");
        }
    }

    /// <summary>--out, created when missing; a file there, or a place that cannot be written, is one error line.</summary>
    private static string OutputFolder(string path)
    {
        if (File.Exists(path))
        {
            throw new ClipSearchException($"--out {path} is a file: give a folder (it is created when missing).");
        }

        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClipSearchException($"--out {path}: cannot create the folder: {e.Message}", e);
        }

        return path;
    }
}

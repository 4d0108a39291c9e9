using System.Text.Json;
using ClipSearch.Core.Imaging;

namespace ClipSearch.Bench;

/// <summary>
/// How far the reduced-DCT fast path lands from the exact path on a corpus: per image the mean absolute difference
/// of the 224×224 crops (levels), then its average and maximum over the corpus, and the largest single difference.
///   fastpath --images DIR
/// </summary>
internal static class FastPathBench
{
    public static int Run(string[] args)
    {
        var images = Args.Images(Args.Get(args, "--images") ?? throw new ArgumentException("--images DIR"));
        var config = PreprocessConfig.Default;
        var means = new List<double>();
        var worstPixel = 0;
        foreach (var path in images)
        {
            var exact = ImageLoader.LoadCrop(path, config, new ImageLoadOptions { Exact = true }).Pixels;
            var fast = ImageLoader.LoadCrop(path, config, new ImageLoadOptions()).Pixels;
            long sum = 0;
            for (var i = 0; i < exact.Length; i++)
            {
                var d = Math.Abs(exact[i] - fast[i]);
                sum += d;
                worstPixel = Math.Max(worstPixel, d);
            }

            means.Add(sum / (double)exact.Length);
        }

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            images = images.Length,
            mean_abs_diff_levels = Math.Round(means.Average(), 3),
            max_image_mean_abs_diff_levels = Math.Round(means.Max(), 3),
            max_pixel_diff_levels = worstPixel,
        }));
        return 0;
    }
}

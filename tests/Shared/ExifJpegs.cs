using ImageMagick;

namespace ClipSearch.Tests;

/// <summary>JPEGs with EXIF written by ImageMagick, an encoder other than the reader under test.</summary>
internal static class ExifJpegs
{
    /// <summary>A plain <paramref name="width"/> × <paramref name="height"/> JPEG with the EXIF <paramref name="write"/> sets.</summary>
    /// <param name="width">Pixels wide, as stored.</param>
    /// <param name="height">Pixels high, as stored.</param>
    /// <param name="write">Sets the EXIF tags.</param>
    /// <param name="orientation">The orientation written (ImageMagick writes the image's own into the EXIF it saves, whatever the profile says).</param>
    public static byte[] Bytes(int width, int height, Action<ExifProfile> write, Orientation orientation = Orientation.Undefined)
    {
        using var image = new MagickImage(MagickColors.Orange, (uint)width, (uint)height) { Format = MagickFormat.Jpeg, Orientation = orientation };
        var exif = new ExifProfile();
        write(exif);
        image.SetProfile(exif);
        return image.ToByteArray();
    }
}

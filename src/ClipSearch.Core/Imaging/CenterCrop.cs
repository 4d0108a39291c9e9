namespace ClipSearch.Core.Imaging;

/// <summary>
/// torchvision's <c>CenterCrop</c> followed by Pillow's <c>convert("RGB")</c>: cut the centre out of the resized
/// image (zero padding where the crop is larger than the image) and make 8-bit RGB of it: grey is repeated to
/// three channels, alpha is dropped without compositing, palettes arrive already expanded.
/// </summary>
internal static class CenterCrop
{
    public static RgbImage Apply(PixelBuffer image, int cropWidth, int cropHeight)
    {
        int left = ResizeGeometry.CenterCropOffset(image.Width, cropWidth);
        int top = ResizeGeometry.CenterCropOffset(image.Height, cropHeight);
        return ToRgb(image, left, top, cropWidth, cropHeight);
    }

    /// <summary>The whole image as RGB (no crop).</summary>
    public static RgbImage ToRgb(PixelBuffer image) => ToRgb(image, 0, 0, image.Width, image.Height);

    private static RgbImage ToRgb(PixelBuffer image, int left, int top, int width, int height)
    {
        var pixels = new byte[3 * width * height];
        int channels = image.Channels;
        for (int y = 0; y < height; y++)
        {
            int sourceY = top + y;
            if (sourceY < 0 || sourceY >= image.Height)
            {
                continue;
            }

            // Columns of the crop that fall inside the image; the rest stay zero (torchvision's padding).
            int firstX = Math.Max(0, -left);
            int lastX = Math.Min(width, image.Width - left);
            var input = image.Span.Slice(sourceY * image.Stride, image.Stride);
            var output = pixels.AsSpan(y * width * 3, width * 3);
            for (int x = firstX; x < lastX; x++)
            {
                int s = (left + x) * channels;
                if (channels == 1)
                {
                    output[(x * 3) + 0] = output[(x * 3) + 1] = output[(x * 3) + 2] = input[s];
                }
                else
                {
                    output[(x * 3) + 0] = input[s];
                    output[(x * 3) + 1] = input[s + 1];
                    output[(x * 3) + 2] = input[s + 2];
                }
            }
        }

        return new RgbImage(width, height, pixels);
    }
}

namespace ClipSearch.Core.Imaging;

/// <summary>torchvision's arithmetic for <c>Resize(int)</c> and <c>CenterCrop</c> (transforms/functional.py).</summary>
internal static class ResizeGeometry
{
    /// <summary>
    /// <c>_compute_resized_output_size</c> with one size: the shorter side becomes <paramref name="shortestEdge"/>,
    /// the longer <c>int(shortestEdge * long / short)</c> (true division in double, then truncation).
    /// </summary>
    public static (int Width, int Height) ShortestEdge(int width, int height, int shortestEdge)
    {
        int shorter = Math.Min(width, height);
        int longer = Math.Max(width, height);
        int newLonger = (int)((double)((long)shortestEdge * longer) / shorter);
        return width <= height ? (shortestEdge, newLonger) : (newLonger, shortestEdge);
    }

    /// <summary>
    /// <c>center_crop</c>'s offset on one axis: <c>int(round((size - crop) / 2.0))</c>, Python's round being
    /// round-half-to-even. Negative when the crop is larger than the image (torchvision pads with zeros then).
    /// </summary>
    public static int CenterCropOffset(int size, int crop)
    {
        if (crop > size)
        {
            // torchvision pads (crop - size) // 2 on the leading side (floor division), then crops at 0.
            return -((crop - size) / 2);
        }

        return (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven);
    }
}

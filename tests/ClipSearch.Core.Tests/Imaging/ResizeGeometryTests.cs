using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class ResizeGeometryTests
{
    [Theory]
    [InlineData(741, 500, 331, 224)]    // int(224 · 741 / 500) = int(331.968) = 331
    [InlineData(100, 1000, 224, 2240)]
    [InlineData(50, 40, 280, 224)]
    [InlineData(1, 1, 224, 224)]
    [InlineData(4032, 3024, 298, 224)]  // 298.67 truncated
    [InlineData(3024, 4032, 224, 298)]
    [InlineData(451, 300, 336, 224)]    // 336.75 truncated
    public void ShortestEdge_TruncatesLikeTorchvision(int width, int height, int newWidth, int newHeight) =>
        Assert.Equal((newWidth, newHeight), ResizeGeometry.ShortestEdge(width, height, 224));

    [Theory]
    [InlineData(224, 0)]
    [InlineData(225, 0)]   // round(0.5) = 0 (half to even)
    [InlineData(226, 1)]
    [InlineData(227, 2)]   // round(1.5) = 2
    [InlineData(229, 2)]   // round(2.5) = 2
    [InlineData(331, 54)]  // round(53.5) = 54
    [InlineData(2240, 1008)]
    [InlineData(200, -12)] // smaller than the crop: torchvision pads 12 on the leading side
    public void CenterCropOffset_RoundsHalfToEven(int size, int offset) =>
        Assert.Equal(offset, ResizeGeometry.CenterCropOffset(size, 224));
}

using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class CenterCropTests
{
    [Fact]
    public void Apply_CutsTheCentreAndExpandsGrey()
    {
        // 5×1 grey, crop 3×1: offset round((5 - 3) / 2) = 1.
        var crop = CenterCrop.Apply(new PixelBuffer(5, 1, 1, [10, 20, 30, 40, 50]), 3, 1);
        Assert.Equal([20, 20, 20, 30, 30, 30, 40, 40, 40], crop.Pixels);
    }

    [Fact]
    public void Apply_DropsAlphaWithoutCompositing()
    {
        var crop = CenterCrop.Apply(new PixelBuffer(1, 1, 4, [200, 100, 50, 0]), 1, 1);
        Assert.Equal([200, 100, 50], crop.Pixels);
    }

    [Fact]
    public void Apply_LargerThanImage_PadsWithZerosLikeTorchvision()
    {
        // 2×1 into 5×3: torchvision pads left (5 - 2) // 2 = 1, top (3 - 1) // 2 = 1.
        var crop = CenterCrop.Apply(new PixelBuffer(2, 1, 1, [7, 9]), 5, 3);
        byte[] expected = new byte[45];
        expected.AsSpan(((5 * 1) + 1) * 3, 3).Fill(7);
        expected.AsSpan(((5 * 1) + 2) * 3, 3).Fill(9);
        Assert.Equal(expected, crop.Pixels);
    }
}

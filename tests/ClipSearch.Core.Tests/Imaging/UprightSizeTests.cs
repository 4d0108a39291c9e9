using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>An image's size as the crop sees it: upright after EXIF orientation, at full size, from the header.</summary>
public sealed class UprightSizeTests
{
    [Theory]
    [InlineData("images/exif_orientation6.jpg", true, 480, 640)]     // stored 640×480, orientation 6: a quarter turn
    [InlineData("images/exif_orientation6.jpg", false, 640, 480)]
    [InlineData("images/gradient_640x480.png", true, 640, 480)]
    [InlineData("images/tall_100x1000.png", true, 100, 1000)]
    public void UprightSize_Fixture_WidthAndHeightAsTheCropSeesThem(string file, bool orient, int width, int height)
    {
        var bytes = File.ReadAllBytes(Fixtures.Path(file.Split('/')));
        var options = new ImageLoadOptions { ApplyExifOrientation = orient };
        Assert.Equal((width, height), ImageLoader.UprightSize(bytes, file, options));
    }

    [Fact]
    public void UprightSize_NotAnImage_ImageLoadException()
    {
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.UprightSize("not an image"u8, "notes.txt", new ImageLoadOptions()));
        Assert.Contains("notes.txt", e.Message, StringComparison.Ordinal);
    }
}

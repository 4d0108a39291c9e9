using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class ImageFormatsTests
{
    [Theory]
    [InlineData("horse.png", ImageFormat.Png, "image/png")]
    [InlineData("exif_orientation6.jpg", ImageFormat.Jpeg, "image/jpeg")]
    [InlineData("gradient.webp", ImageFormat.WebP, "image/webp")]
    [InlineData("small_50x40.bmp", ImageFormat.Bmp, "image/bmp")]
    public void Sniff_FixtureFile_ItsFormatAndType(string name, ImageFormat format, string contentType)
    {
        var bytes = File.ReadAllBytes(Fixtures.Path("images", name));
        var head = bytes.AsSpan(0, Math.Min(bytes.Length, ImageFormats.SignatureBytes));
        Assert.Equal(format, ImageFormats.Sniff(head));
        Assert.Equal(contentType, ImageFormats.ContentTypeOf(head));
    }

    [Fact]
    public void Sniff_GifHeader_Gif() => Assert.Equal(ImageFormat.Gif, ImageFormats.Sniff("GIF89a\x01\x00\x01\x00"u8));

    [Theory]
    [InlineData("")]
    [InlineData("RIFF\0\0\0\0WAVE")]   // RIFF, but audio
    [InlineData("%PDF-1.7")]
    [InlineData("\u0089PN")]          // a PNG signature cut short
    public void Sniff_NotAnImage_Null(string head)
    {
        var bytes = System.Text.Encoding.Latin1.GetBytes(head);
        Assert.Null(ImageFormats.Sniff(bytes));
        Assert.Equal("application/octet-stream", ImageFormats.ContentTypeOf(bytes));
    }
}

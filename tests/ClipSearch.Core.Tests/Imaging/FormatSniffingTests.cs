using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>Formats are told by their bytes, never by their names (issue #11, item 3).</summary>
public sealed class FormatSniffingTests : IDisposable
{
    private static readonly ImageLoadOptions _exact = new() { Exact = true };
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("chelsea.heic", ImageFormat.Heif, "image/heic")]
    [InlineData("rgba_256x256.heic", ImageFormat.Heif, "image/heic")]
    [InlineData("coffee.avif", ImageFormat.Avif, "image/avif")]
    [InlineData("astronaut.tif", ImageFormat.Tiff, "image/tiff")]
    [InlineData("multipage.tif", ImageFormat.Tiff, "image/tiff")]
    [InlineData("motorcycle_right.jxl", ImageFormat.JpegXl, "image/jxl")]
    [InlineData("horse_lossy.jxl", ImageFormat.JpegXl, "image/jxl")]
    public void Sniff_FormatsFixture_ItsFormatAndType(string name, ImageFormat format, string contentType)
    {
        var bytes = File.ReadAllBytes(Fixtures.Path("formats", "images", name));
        var head = bytes.AsSpan(0, Math.Min(bytes.Length, ImageFormats.SignatureBytes));
        Assert.Equal(format, ImageFormats.Sniff(head));
        Assert.Equal(contentType, ImageFormats.ContentTypeOf(head));
    }

    [Fact]
    public void Sniff_Dng_CameraRawByItsFirstDirectory_WhateverItsName()
    {
        var dng = TestDng.Write(8, 8, (_, _, _) => 1000, previewJpeg: null);
        Assert.Equal(ImageFormat.CameraRaw, ImageFormats.Sniff(dng));
        Assert.Equal(ImageFormat.CameraRaw, ImageFormats.Sniff(dng, "scan.tif"));
    }

    [Fact]
    public void Sniff_PlainTiffNamedAsARawFile_TakenAsRaw()
    {
        // A NEF, ARW or PEF is a TIFF whose first directory may not tell: then the name decides between the two.
        var tiff = File.ReadAllBytes(Fixtures.Path("formats", "images", "astronaut.tif"));
        Assert.Equal(ImageFormat.Tiff, ImageFormats.Sniff(tiff, "astronaut.tif"));
        Assert.Equal(ImageFormat.CameraRaw, ImageFormats.Sniff(tiff, "DSC_0001.NEF"));
        Assert.Equal(ImageFormat.Tiff, ImageFormats.Sniff(tiff, null));
    }

    [Fact]
    public void LoadCrop_HeicNamedJpg_ReadAsHeic()
    {
        var heic = Fixtures.Path("formats", "images", "chelsea.heic");
        File.Copy(heic, _folder.File("photo.jpg"));

        var named = ImageLoader.LoadCrop(_folder.File("photo.jpg"), PreprocessConfig.Default, _exact);
        var asIs = ImageLoader.LoadCrop(heic, PreprocessConfig.Default, _exact);
        Assert.Equal(asIs.Pixels, named.Pixels);
    }

    [Fact]
    public void LoadCrop_JpegNamedHeic_ReadAsJpeg()
    {
        var jpeg = Fixtures.Path("images", "exif_orientation6.jpg");
        File.Copy(jpeg, _folder.File("photo.heic"));

        var named = ImageLoader.LoadCrop(_folder.File("photo.heic"), PreprocessConfig.Default, _exact);
        var asIs = ImageLoader.LoadCrop(jpeg, PreprocessConfig.Default, _exact);
        Assert.Equal(asIs.Pixels, named.Pixels);
    }

    [Fact]
    public void LoadCrop_TextNamedTif_NotAnImage()
    {
        File.WriteAllText(_folder.File("notes.tif"), "These are my notes, not a scan.\n");
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadCrop(_folder.File("notes.tif"), PreprocessConfig.Default, _exact));
        Assert.Contains("not an image", e.Message, StringComparison.Ordinal);
        Assert.Contains("notes.tif", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("chelsea.heic", "heic")]
    [InlineData("coffee.avif", "avif")]
    [InlineData("astronaut.tif", "tiff")]
    [InlineData("motorcycle_right.jxl", "jxl")]
    public void LoadCrop_Truncated_ErrorNamesTheFileAndTheFormat(string name, string format)
    {
        var bytes = File.ReadAllBytes(Fixtures.Path("formats", "images", name));
        File.WriteAllBytes(_folder.File(name), bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadCrop(_folder.File(name), PreprocessConfig.Default, _exact));
        Assert.Contains("truncated or corrupt", e.Message, StringComparison.Ordinal);
        Assert.Contains($"({format}: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("@ error/", e.Message, StringComparison.Ordinal);   // ImageMagick's source position is left out
    }

    [Fact]
    public void LoadCrop_OverThePixelLimit_RefusedFromTheHeaderBeforeDecoding()
    {
        var heic = Fixtures.Path("formats", "images", "chelsea.heic");   // 451 × 300 = 135,300 pixels
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadCrop(heic, PreprocessConfig.Default, _exact with { MaxPixels = 100_000 }));
        Assert.Contains("451×300", e.Message, StringComparison.Ordinal);
        Assert.Contains("megapixel limit", e.Message, StringComparison.Ordinal);
    }
}

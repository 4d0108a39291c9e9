using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class ImageLoaderErrorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("clipsearch-imaging-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static ImageLoadException Load(string path, ImageLoadOptions? options = null) =>
        Assert.Throws<ImageLoadException>(() => ImageLoader.LoadCrop(path, PreprocessConfig.Default, options ?? ImageLoadOptions.Default));

    [Fact]
    public void LoadCrop_ZeroByteFile_SaysEmpty()
    {
        var path = Write("empty.jpg", []);
        var error = Load(path);
        Assert.Equal($"{path} is empty", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoadCrop_TruncatedJpeg_SaysTruncated(bool exact)
    {
        var whole = File.ReadAllBytes(Fixtures.Path("images", "exif_orientation6.jpg"));
        var path = Write("half.jpg", whole[..(whole.Length / 2)]);
        var error = Load(path, new ImageLoadOptions { Exact = exact });
        Assert.Equal($"{path} is truncated or corrupt", error.Message);
    }

    [Fact]
    public void LoadCrop_TruncatedPng_SaysTruncated()
    {
        var whole = File.ReadAllBytes(Fixtures.Path("images", "chelsea.png"));
        var path = Write("half.png", whole[..(whole.Length / 2)]);
        var error = Load(path);
        Assert.Equal($"{path} is truncated or corrupt", error.Message);
    }

    [Fact]
    public void LoadCrop_TextFile_SaysNotAnImage()
    {
        var path = Write("notes.jpg", "just some text, not pixels\n"u8.ToArray());
        var error = Load(path);
        Assert.Equal($"{path} is not an image (or an unsupported format)", error.Message);
    }

    [Fact]
    public void LoadCrop_MissingFile_SaysSo()
    {
        var path = Path.Combine(_folder, "nowhere.png");
        var error = Load(path);
        Assert.Equal($"{path} does not exist", error.Message);
    }

    [Fact]
    public void LoadCrop_OverPixelLimit_IsRefusedWithSizes()
    {
        var path = Fixtures.Path("images", "chelsea.png");
        var error = Load(path, new ImageLoadOptions { MaxPixels = 1000 });
        Assert.Equal($"{path} is 451×300 = 0.1353 megapixels, over the 0.001 megapixel limit", error.Message);
    }

    [Fact]
    public void LoadCrop_VeryThinImage_IsRefusedBeforeResizingToBillionsOfPixels()
    {
        // 2 × 20,000 grey decodes within a 1 megapixel limit, but resized to a 224-pixel shorter side it would be
        // 224 × 2,240,000 pixels.
        var bytes = TestEncoders.Png(2, 20_000, colourType: 0, new byte[2 * 20_000]);
        var error = Assert.Throws<ImageLoadException>(
            () => ImageLoader.LoadCrop(bytes, "upload", PreprocessConfig.Default, new ImageLoadOptions { MaxPixels = 1_000_000 }));
        Assert.Equal("upload is 2×20000, too thin: resized to a shorter side of 224 it would be 2240000 pixels long, over the 1 megapixel limit", error.Message);
    }

    [Fact]
    public void LoadCrop_HugeHeader_IsRefusedBeforeDecoding()
    {
        // 50000 × 50000 RGB would need 10 GB to decode; the header alone must be enough to refuse it.
        var bytes = TestEncoders.PngHeaderOnly(50_000, 50_000);
        var error = Assert.Throws<ImageLoadException>(
            () => ImageLoader.LoadCrop(bytes, "upload", PreprocessConfig.Default, ImageLoadOptions.Default));
        Assert.Equal("upload is 50000×50000 = 2500 megapixels, over the 100 megapixel limit", error.Message);
    }

    [Fact]
    public void LoadCrop_Bytes_NameTheUploadInErrors()
    {
        var error = Assert.Throws<ImageLoadException>(
            () => ImageLoader.LoadCrop("GIF89a"u8, "upload", PreprocessConfig.Default, ImageLoadOptions.Default));
        Assert.StartsWith("upload is ", error.Message);
    }
}

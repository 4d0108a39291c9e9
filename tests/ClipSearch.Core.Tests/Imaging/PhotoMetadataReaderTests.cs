using ClipSearch.Core.Imaging;
using ImageMagick;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>
/// <see cref="PhotoMetadataReader"/> against files whose metadata another library (ImageMagick) wrote: the date taken
/// and its source, the upright size, the camera and the place; a file without metadata; garbage.
/// </summary>
public sealed class PhotoMetadataReaderTests
{
    private static readonly DateTime FileTime = new(2023, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Fact]
    public void Read_JpegWithExifDateOffsetCameraAndGps_RecordsEveryField()
    {
        var bytes = ExifJpegs.Bytes(40, 30, exif =>
        {
            exif.SetValue(ExifTag.DateTimeOriginal, "2024:07:04 18:30:05");
            exif.SetValue(ExifTag.OffsetTimeOriginal, "+02:00");
            exif.SetValue(ExifTag.Make, "Canon ");
            exif.SetValue(ExifTag.Model, "EOS R5");
            exif.SetValue(ExifTag.GPSLatitudeRef, "S");
            exif.SetValue(ExifTag.GPSLatitude, [new Rational(33, 1), new Rational(51, 1), new Rational(2448, 100)]);
            exif.SetValue(ExifTag.GPSLongitudeRef, "W");
            exif.SetValue(ExifTag.GPSLongitude, [new Rational(70, 1), new Rational(30, 1), new Rational(0, 1)]);
        });

        var metadata = PhotoMetadataReader.Read(bytes, "a.jpg", FileTime);

        Assert.NotNull(metadata);
        Assert.Equal(new DateTime(2024, 7, 4, 18, 30, 5), metadata.TakenAt);
        Assert.Equal(120, metadata.TakenOffsetMinutes);
        Assert.Equal(TakenAtSource.Exif, metadata.TakenAtSource);
        Assert.Equal(new DateTimeOffset(2024, 7, 4, 16, 30, 5, TimeSpan.Zero), metadata.TakenAtUtc);
        Assert.Equal((40, 30, ImageFormat.Jpeg), (metadata.Width, metadata.Height, metadata.Format));
        Assert.Equal(("Canon", "EOS R5"), (metadata.CameraMake, metadata.CameraModel));
        Assert.Equal(-(33 + 51 / 60.0 + 24.48 / 3600), metadata.Latitude!.Value, 6);
        Assert.Equal(-70.5, metadata.Longitude!.Value, 6);
    }

    [Fact]
    public void Read_ExifDateWithoutOffsetAndOrientation6_WallClockOnlyAndSizeUpright()
    {
        var bytes = ExifJpegs.Bytes(40, 30, exif =>
        {
            exif.SetValue(ExifTag.DateTimeOriginal, "2019:12:31 23:59:59");
            exif.SetValue(ExifTag.Orientation, (ushort)6);
        }, Orientation.RightTop);

        var metadata = PhotoMetadataReader.Read(bytes, "b.jpg", FileTime)!;

        Assert.Equal((new DateTime(2019, 12, 31, 23, 59, 59), (int?)null, TakenAtSource.Exif), (metadata.TakenAt, metadata.TakenOffsetMinutes, metadata.TakenAtSource));
        Assert.Null(metadata.TakenAtUtc);
        Assert.Equal((30, 40), (metadata.Width, metadata.Height));
        Assert.Null(metadata.CameraMake);
        Assert.Null(metadata.Latitude);
    }

    [Theory]
    [InlineData("0000:00:00 00:00:00")]
    [InlineData("garbage")]
    public void Read_ExifDateThatIsNoDate_FallsBackToTheFileTime(string date)
    {
        var bytes = ExifJpegs.Bytes(8, 8, exif => exif.SetValue(ExifTag.DateTimeOriginal, date));

        var metadata = PhotoMetadataReader.Read(bytes, "c.jpg", FileTime)!;

        Assert.Equal(TakenAtSource.FileTime, metadata.TakenAtSource);
        Assert.Equal(FileTime, metadata.TakenAtUtc!.Value.UtcDateTime);
    }

    [Fact]
    public void Read_PngWithoutMetadata_FileTimeInThisMachinesZoneAndItsSize()
    {
        using var image = new MagickImage(MagickColors.Blue, 17, 9) { Format = MagickFormat.Png };
        var metadata = PhotoMetadataReader.Read(image.ToByteArray(), "d.png", FileTime)!;

        Assert.Equal((TakenAtSource.FileTime, ImageFormat.Png, 17, 9), (metadata.TakenAtSource, metadata.Format, metadata.Width, metadata.Height));
        Assert.Equal(FileTime, metadata.TakenAtUtc!.Value.UtcDateTime);
        Assert.Equal(TimeZoneInfo.ConvertTimeFromUtc(FileTime, TimeZoneInfo.Local), metadata.TakenAt);
    }

    [Fact]
    public void Read_CorruptExifOrNoImage_NeverThrows()
    {
        var good = ExifJpegs.Bytes(8, 8, exif => exif.SetValue(ExifTag.DateTimeOriginal, "2024:01:01 00:00:00"));
        var corrupt = (byte[])good.Clone();
        for (var i = 20; i < Math.Min(400, corrupt.Length); i += 3)
        {
            corrupt[i] ^= 0x5A;   // the APP1 segment's IFDs garbled
        }

        var truncated = good[..30];

        Assert.NotNull(PhotoMetadataReader.Read(corrupt, "e.jpg", FileTime));
        Assert.Equal(TakenAtSource.FileTime, PhotoMetadataReader.Read(truncated, "f.jpg", FileTime)!.TakenAtSource);
        Assert.Null(PhotoMetadataReader.Read("not an image"u8.ToArray(), "g.jpg", FileTime));
    }

    [Theory]
    [InlineData("chelsea.heic", ImageFormat.Heif)]
    [InlineData("coffee.avif", ImageFormat.Avif)]
    [InlineData("astronaut.tif", ImageFormat.Tiff)]
    [InlineData("motorcycle_right.jxl", ImageFormat.JpegXl)]
    public void Read_OtherFormats_TellTheFormatByContent(string name, ImageFormat format)
    {
        var bytes = File.ReadAllBytes(Fixtures.Path("formats", "images", name));

        var metadata = PhotoMetadataReader.Read(bytes, name, FileTime);

        Assert.Equal(format, metadata?.Format);
        Assert.Equal(TakenAtSource.FileTime, metadata?.TakenAtSource);   // none of them carries a date
    }
}

using ClipSearch.Core.Imaging;
using ClipSearch.Library.Storage;
using ImageMagick;
using Microsoft.Data.Sqlite;
using Npgsql;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>An index run records what each photo is beyond its pixels; a library indexed without it gets it on its next run, without inference.</summary>
public sealed class LibraryMetadataTests
{
    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_RecordsDateTakenCameraPlaceSizeAndFormat_AndAMovedFileKeepsThem(string kind)
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        WriteJpeg(temp.File("photos", "trip.jpg"), "2024:07:04 18:30:05", "+02:00");
        await using var lib = await OpenAsync(kind, temp);

        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var image = Assert.Single(await lib.Library.ListImagesAsync());
        File.Move(temp.File("photos", "trip.jpg"), temp.File("photos", "renamed.jpg"));
        var moved = await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var after = Assert.Single(await lib.Library.ListImagesAsync());

        var metadata = image.Metadata!;
        Assert.Equal((new DateTime(2024, 7, 4, 18, 30, 5), (int?)120, TakenAtSource.Exif), (metadata.TakenAt, metadata.TakenOffsetMinutes, metadata.TakenAtSource));
        Assert.Equal((64, 48, ImageFormat.Jpeg, "Fujifilm", "X100V"), (metadata.Width, metadata.Height, metadata.Format, metadata.CameraMake, metadata.CameraModel));
        Assert.Equal(35.5, metadata.Latitude!.Value, 6);
        Assert.Equal(139.75, metadata.Longitude!.Value, 6);
        Assert.Equal(new FileInfo(temp.File("photos", "renamed.jpg")).Length, image.Bytes);
        Assert.Equal(0, moved.Embedded);
        Assert.Equal(metadata, after.Metadata);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_LibraryRecordedWithoutMetadata_FillsItInWithoutEmbeddingAndKeepsEveryEmbedding(string kind)
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        WriteJpeg(temp.File("photos", "a.jpg"), "2021:03:04 05:06:07", null);
        using (var png = new MagickImage(MagickColors.Teal, 45, 30))
        {
            png.Write(temp.File("photos", "b.png"), MagickFormat.Png);   // no date inside: the file time
        }

        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var before = await EmbeddingsAsync(lib.Library);

        // As a library indexed before metadata was recorded: every column empty, version 0.
        await ExecuteAsync(lib, "UPDATE {files} SET taken_at = NULL, taken_offset = NULL, taken_source = NULL, width = NULL, height = NULL, format = NULL, metadata_version = 0");
        Assert.All(await lib.Library.ListImagesAsync(), i => Assert.Null(i.Metadata));

        var run = await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var images = (await lib.Library.ListImagesAsync()).ToDictionary(i => Path.GetFileName(i.Path));

        Assert.Equal((0, 2), (run.Embedded, run.Unchanged));
        Assert.Equal(before, await EmbeddingsAsync(lib.Library));
        Assert.Equal((new DateTime(2021, 3, 4, 5, 6, 7), TakenAtSource.Exif), (images["a.jpg"].Metadata!.TakenAt, images["a.jpg"].Metadata!.TakenAtSource));
        Assert.Equal((TakenAtSource.FileTime, ImageFormat.Png, 45, 30),
            (images["b.png"].Metadata!.TakenAtSource, images["b.png"].Metadata!.Format, images["b.png"].Metadata!.Width, images["b.png"].Metadata!.Height));
    }

    private static async Task<Dictionary<string, float[]>> EmbeddingsAsync(ImageLibrary library)
    {
        var result = new Dictionary<string, float[]>();
        foreach (var image in await library.ListImagesAsync())
        {
            result[Path.GetFileName(image.Path)] = (await library.GetEmbeddingAsync(image.Id))!;
        }

        return result;
    }

    private static async Task ExecuteAsync(TestLibrary lib, string sql)
    {
        if (LibraryLocation.IsPostgres(lib.Location))
        {
            await using var c = new NpgsqlConnection(lib.Location);
            await c.OpenAsync();
            await using var command = new NpgsqlCommand(sql.Replace("{files}", "clipsearch_files", StringComparison.Ordinal), c);
            await command.ExecuteNonQueryAsync();
            return;
        }

        await using var sqlite = new SqliteConnection($"Data Source={lib.Location};Pooling=False");
        await sqlite.OpenAsync();
        await using var update = sqlite.CreateCommand();
        update.CommandText = sql.Replace("{files}", "files", StringComparison.Ordinal);
        await update.ExecuteNonQueryAsync();
    }

    private static void WriteJpeg(string path, string taken, string? offset) => File.WriteAllBytes(path, ExifJpegs.Bytes(64, 48, exif =>
    {
        exif.SetValue(ExifTag.DateTimeOriginal, taken);
        if (offset is not null)
        {
            exif.SetValue(ExifTag.OffsetTimeOriginal, offset);
        }

        exif.SetValue(ExifTag.Make, "Fujifilm");
        exif.SetValue(ExifTag.Model, "X100V");
        exif.SetValue(ExifTag.GPSLatitudeRef, "N");
        exif.SetValue(ExifTag.GPSLatitude, [new Rational(35, 1), new Rational(30, 1), new Rational(0, 1)]);
        exif.SetValue(ExifTag.GPSLongitudeRef, "E");
        exif.SetValue(ExifTag.GPSLongitude, [new Rational(139, 1), new Rational(45, 1), new Rational(0, 1)]);
    }));
}

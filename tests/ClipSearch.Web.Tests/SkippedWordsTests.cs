using System.Globalization;
using ClipSearch.Library.Indexing;
using ClipSearch.Web.Localization;

namespace ClipSearch.Web.Tests;

/// <summary>What the walks passed over, worded by the web (issue 11): English as the command line says it, Chinese with every number.</summary>
public sealed class SkippedWordsTests
{
    private static readonly SkippedFiles Many = new(
        [new(".mov", 1200), new("", 4), .. Enumerable.Range(0, 8).Select(i => new ExtensionCount($".e{i}", 1))], 3);

    [Fact]
    public void English_ManyExtensions_NamesTheLargestAndSaysHowManyMore()
    {
        var words = UiStrings.English;
        var english = CultureInfo.GetCultureInfo("en");

        Assert.Equal("1,212 files that are not images: .mov ×1,200, (no extension) ×4, .e0 ×1, .e1 ×1, .e2 ×1, .e3 ×1, .e4 ×1, .e5 ×1, …and 2 more",
            SkippedWords.NotImages(Many, key => words[key], english));
        Assert.Equal("3 RAW files that have a JPEG or HEIC beside them", SkippedWords.RawWithSibling(Many, key => words[key], english));
        Assert.Equal("1 file that is not an image: .txt ×1", SkippedWords.NotImages(new SkippedFiles([new(".txt", 1)], 0), key => words[key], english));
        Assert.Equal("1 RAW file that has a JPEG or HEIC beside it", SkippedWords.RawWithSibling(new SkippedFiles([], 1), key => words[key], english));
        Assert.Null(SkippedWords.NotImages(SkippedFiles.None, key => words[key], english));
        Assert.Null(SkippedWords.RawWithSibling(SkippedFiles.None, key => words[key], english));
    }

    [Fact]
    public void Chinese_ManyExtensions_HasNoEnglishAndEveryNumber()
    {
        var words = UiStrings.Chinese;
        var chinese = CultureInfo.GetCultureInfo("zh-CN");

        Assert.Equal("1,212 个非图片文件：.mov ×1,200、（无扩展名） ×4、.e0 ×1、.e1 ×1、.e2 ×1、.e3 ×1、.e4 ×1、.e5 ×1、……另有 2 种",
            SkippedWords.NotImages(Many, key => words[key], chinese));
        Assert.Equal("3 个 RAW 文件旁有同名的 JPEG 或 HEIC（已索引后者）", SkippedWords.RawWithSibling(Many, key => words[key], chinese));
    }
}

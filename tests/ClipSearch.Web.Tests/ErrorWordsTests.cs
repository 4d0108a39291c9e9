using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.RegularExpressions;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Web.Localization;

namespace ClipSearch.Web.Tests;

/// <summary>The web's words for error codes: every code in both languages, the web's advice, never a CLI flag.</summary>
public sealed partial class ErrorWordsTests
{
    /// <summary>Every code the lower layers (<see cref="ErrorCodes"/>) and the web (<see cref="WebErrorCodes"/>) raise.</summary>
    public static TheoryData<string> Codes() =>
        [.. new[] { typeof(ErrorCodes), typeof(WebErrorCodes) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static)).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];

    [Theory]
    [MemberData(nameof(Codes))]
    public void EveryCode_HasEnglishAndChineseWords(string code)
    {
        Assert.True(UiStrings.English.ContainsKey(ErrorWords.Key(code)), $"no English words for {code}");
        Assert.True(UiStrings.Chinese.ContainsKey(ErrorWords.Key(code)), $"no Chinese words for {code}");
    }

    [Theory]
    [MemberData(nameof(Codes))]
    public void EveryCode_WebWords_NameNoCliFlag(string code)
    {
        var values = Enumerable.Range(0, 6).Select(i => (object)$"value{i}").ToArray();
        foreach (var words in new[] { UiStrings.English, UiStrings.Chinese })
        {
            var text = string.Format(CultureInfo.InvariantCulture, words[ErrorWords.Key(code)].Replace(":N0}", "}", StringComparison.Ordinal), values);
            Assert.DoesNotMatch(CliAdvice(), text);
        }
    }

    [Fact]
    public void ModelFolderIsAFile_WebSaysTheModelTab_ChinesePageSaysItInChinese()
    {
        var file = Path.GetFullPath(Path.Combine(TinyClip.ModelPath, "config.json"));
        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(file));

        var english = Ui.English(error);
        Assert.Equal($"{file} is a file, not a model folder: give the folder that holds config.json and onnx/ (the Model tab's folder, the API's 'path').", english);
        Assert.Equal(english, InCulture("en", () => UiStrings.Create().Error(error)));
        Assert.Equal($"{file} 是一个文件，不是模型文件夹：请在“模型”页填写包含 config.json 和 onnx/ 的文件夹。", InCulture("zh-CN", () => UiStrings.Create().Error(error)));
    }

    [Fact]
    public void LibraryOfAnotherModel_WebSaysLoadTheModel_ChinesePageSaysItInChinese()
    {
        var error = new ClipSearchException(ErrorCodes.LibraryModelMismatch,
            "The library /l.db holds embeddings of another model (fp32 abc, 512-d); this model is quantized def, 512-d.", ["/l.db", "fp32 abc, 512-d", "quantized def, 512-d"]);

        Assert.Equal("The library /l.db holds embeddings of another model (fp32 abc, 512-d); this model is quantized def, 512-d. " +
            "Load the model the library was built with on the Model tab (POST /api/model/load).", Ui.English(error));
        Assert.Equal("图库 /l.db 中的嵌入来自另一个模型（fp32 abc, 512-d），当前模型是 quantized def, 512-d。请在“模型”页加载建立该图库时所用的模型。",
            InCulture("zh-CN", () => UiStrings.Create().Error(error)));
    }

    [Fact]
    public void HubError_WithHint_KeepsTheHintOnItsOwnLine()
    {
        var error = new Hub.HubException(Hub.HubFailure.NotFound, ErrorCodes.HubRepositoryNotFound, "There is no repository a/b on the Hub (404).", ["a/b"])
            .WithHint("To install it by hand: …");

        Assert.Equal("There is no repository a/b on the Hub (404). Check the repository's name.\nTo install it by hand: …", Ui.English(error));
        Assert.Equal("Hugging Face Hub 上没有仓库 a/b（404）：请检查仓库名称。\nTo install it by hand: …", InCulture("zh-CN", () => UiStrings.Create().Error(error)));
    }

    [Fact]
    public async Task LoadModel_AFile_ProblemNamesTheWebsAdviceAndTheCode()
    {
        using var server = TinyClip.Server(loaded: false);
        using var client = server.CreateClient();
        var file = Path.GetFullPath(Path.Combine(TinyClip.ModelPath, "config.json"));

        var problem = await ApiTests.ProblemAsync(await client.PostAsJsonAsync("/api/model/load", new { path = file }), HttpStatusCode.BadRequest);

        Assert.StartsWith($"{file} is a file, not a model folder", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("the API's 'path'", problem.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("--model", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.ModelFolderIsFile, problem.Extensions["code"]?.ToString());
    }

    private static string InCulture(string culture, Func<string> words)
    {
        var before = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = new CultureInfo(culture);
            return words();
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }

    [GeneratedRegex(@"(^|[\s'`(])(--[a-z]|-k\b)|clipsearch [a-z]|CLIPSEARCH_HOME")]
    private static partial Regex CliAdvice();
}

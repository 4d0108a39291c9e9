using System.Diagnostics;
using System.Text.Json;
using ClipSearch.Core.Tokenization;

namespace ClipSearch.Web.Tests;

/// <summary>
/// The official <c>openai</c> npm package (installed by <c>./test</c> into a cache folder named by
/// <c>CLIPSEARCH_TEST_OPENAI_NODE</c>, never committed) against the server on a real loopback port with a token:
/// text and image embeddings equal to <c>/api/embed</c>'s, base64 (the client's default, which it decodes) equal to
/// float, a remote URL refused, a wrong key raised as its <c>AuthenticationError</c>. Skipped without the package,
/// except under <c>CI=true</c>, where it fails.
/// </summary>
public sealed class OpenAiClientTests
{
    public const string Variable = "CLIPSEARCH_TEST_OPENAI_NODE";
    private const string Token = "s3cret-api-key";

    // One Node run makes every call (Node starts once); it prints what each gave as one JSON object.
    private const string Script = """
        const path = require('node:path');
        const fs = require('node:fs');
        const mod = require(path.join(process.env.OPENAI_NODE, 'node_modules', 'openai'));
        const OpenAI = mod.OpenAI ?? mod.default ?? mod;
        const [baseURL, apiKey, model, imagePath] = process.argv.slice(2);
        const failure = (e) => ({ name: e.constructor.name, status: e.status, error: e.error, code: e.code, type: e.type, param: e.param,
          isAuthenticationError: e instanceof OpenAI.AuthenticationError, isBadRequestError: e instanceof OpenAI.BadRequestError, isNotFoundError: e instanceof OpenAI.NotFoundError });
        (async () => {
          const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60000 });
          const out = { version: require(path.join(process.env.OPENAI_NODE, 'node_modules', 'openai', 'package.json')).version };
          // Without encoding_format the client asks for base64 and decodes it into numbers.
          const texts = await client.embeddings.create({ model, input: ['a cat', 'a dog'] });
          out.texts = texts.data.map((d) => ({ index: d.index, embedding: Array.from(d.embedding) }));
          out.usage = texts.usage;
          out.model = texts.model;
          const floats = await client.embeddings.create({ model, input: ['a cat', 'a dog'], encoding_format: 'float' });
          out.floats = floats.data.map((d) => d.embedding);
          out.base64 = (await client.embeddings.create({ model, input: 'a cat', encoding_format: 'base64' })).data[0].embedding;
          // Infinity's extension: a field the client does not know is sent as it is.
          const image = 'data:image/png;base64,' + fs.readFileSync(imagePath).toString('base64');
          out.image = Array.from((await client.embeddings.create({ model, input: [image], modality: 'image' })).data[0].embedding);
          out.jina = (await client.embeddings.create({ model, input: [{ text: 'a cat' }, { image }], encoding_format: 'float' })).data.map((d) => d.embedding);
          out.models = (await client.models.list()).data.map((m) => m.id);
          try { await client.embeddings.create({ model, input: ['https://example.com/cat.jpg'], modality: 'image' }); out.remote = null; } catch (e) { out.remote = failure(e); }
          try { await client.embeddings.create({ model: 'text-embedding-3-small', input: 'a cat' }); out.notFound = null; } catch (e) { out.notFound = failure(e); }
          const wrongKey = new OpenAI({ baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
          try { await wrongKey.embeddings.create({ model, input: 'a cat' }); out.wrongKey = null; } catch (e) { out.wrongKey = failure(e); }
          process.stdout.write(JSON.stringify(out));
        })().catch((e) => { console.error(e); process.exit(1); });
        """;

    [SkippableFact]
    public async Task OfficialClient_TextsImagesBase64AndErrors_AsApiEmbedAndOpenAi()
    {
        var package = PackageFolder();
        await using var server = await LoopbackServer.StartAsync(true, ("ClipSearch:Token", Token));
        server.Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        var horse = TinyClip.Image("horse.png");
        using var temp = new TempFolder();
        var script = temp.File("client.cjs");
        await File.WriteAllTextAsync(script, Script);

        var result = await RunNodeAsync(package, script, $"{server.BaseUrl.TrimEnd('/')}/v1", Token, "tiny-clip", horse);
        var expected = await OpenAiApiTests.ApiEmbedAsync(server.Client, [horse], ["a cat", "a dog"]);

        Assert.Equal("tiny-clip", result.GetProperty("model").GetString());
        var texts = result.GetProperty("texts").EnumerateArray().ToList();
        Assert.Equal([0, 1], texts.Select(t => t.GetProperty("index").GetInt32()));
        Assert.Equal(expected.Texts[0], OpenAiApiTests.Floats(texts[0].GetProperty("embedding")));
        Assert.Equal(expected.Texts[1], OpenAiApiTests.Floats(texts[1].GetProperty("embedding")));
        var floats = result.GetProperty("floats").EnumerateArray().Select(OpenAiApiTests.Floats).ToList();
        Assert.Equal(expected.Texts, floats);
        Assert.Equal(expected.Texts[0], OpenAiApiTests.FromBase64(result.GetProperty("base64").GetString()!));
        var tokens = ClipTokenizer.Default.Encode("a cat").Length + ClipTokenizer.Default.Encode("a dog").Length;
        Assert.Equal(tokens, result.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(tokens, result.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal(expected.Images[0], OpenAiApiTests.Floats(result.GetProperty("image")));
        Assert.Equal([expected.Texts[0], expected.Images[0]], result.GetProperty("jina").EnumerateArray().Select(OpenAiApiTests.Floats));
        Assert.Equal(["tiny-clip"], result.GetProperty("models").EnumerateArray().Select(m => m.GetString()));

        var remote = result.GetProperty("remote");
        Assert.True(remote.GetProperty("isBadRequestError").GetBoolean(), remote.ToString());
        Assert.Equal(400, remote.GetProperty("status").GetInt32());
        Assert.Equal("input", remote.GetProperty("param").GetString());
        Assert.Contains("--embed-url-hosts", remote.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        var notFound = result.GetProperty("notFound");
        Assert.True(notFound.GetProperty("isNotFoundError").GetBoolean(), notFound.ToString());
        Assert.Equal("model_not_found", notFound.GetProperty("code").GetString());

        var wrongKey = result.GetProperty("wrongKey");
        Assert.True(wrongKey.GetProperty("isAuthenticationError").GetBoolean(), wrongKey.ToString());
        Assert.Equal("AuthenticationError", wrongKey.GetProperty("name").GetString());
        Assert.Equal(401, wrongKey.GetProperty("status").GetInt32());
        Assert.Equal("authentication_error", wrongKey.GetProperty("type").GetString());
        Assert.Equal("invalid_api_key", wrongKey.GetProperty("code").GetString());
    }

    /// <summary>The folder holding <c>node_modules/openai</c>; skips (fails under CI) without it or without Node.</summary>
    private static string PackageFolder()
    {
        var folder = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(folder) || !File.Exists(Path.Combine(folder, "node_modules", "openai", "package.json")))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"{Variable} does not name a folder with node_modules/openai under CI: ./test installs the openai npm package and exports it.");
            }

            Skip.If(true, $"{Variable} is not set (./test installs the openai npm package into a cache folder and sets it).");
        }

        return folder!;
    }

    private static async Task<JsonElement> RunNodeAsync(string package, string script, params string[] arguments)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["OPENAI_NODE"] = package;
        start.Environment["NODE_NO_WARNINGS"] = "1";
        using var node = Process.Start(start)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(node.ExitCode == 0, $"node exited with {node.ExitCode}: {await errors}");
        return JsonDocument.Parse(await output).RootElement.Clone();
    }
}

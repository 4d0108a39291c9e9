using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace ClipSearch.Web.Tests;

/// <summary>
/// The requests Immich's server sends its machine-learning server, byte for byte, and its reading of the answers.
/// They follow <c>server/src/repositories/machine-learning.repository.ts</c> at immich-app/immich@028fab83fded0590eca2772ef2add592294749ac:
/// <c>getFormData</c> appends <c>entries</c> (<c>JSON.stringify(config)</c>) and then the image as
/// <c>new Blob([new Uint8Array(fileBuffer)])</c> or the text, and <c>predict</c> posts it with Node's <c>fetch</c>
/// to <c>new URL('/predict', url)</c>; the health check is <c>fetch(new URL('/ping', url))</c>. Node's fetch and
/// FormData (undici) write a Blob part without a file name as <c>filename="blob"</c> with
/// <c>Content-Type: application/octet-stream</c>, the boundary as <c>----formdata-undici-0</c> and 11 random digits,
/// and these headers (captured from Node 20's fetch): no Origin, no Sec-Fetch-Site, no Authorization.
/// </summary>
internal static class ImmichRequests
{
    /// <summary><c>encodeText</c>'s entries: <c>{clip: {textual: {modelName, options: {language}}}}</c>.</summary>
    public static string TextEntries(string model = "ViT-B-32__openai", string language = "en") =>
        """{"clip":{"textual":{"modelName":""" + Quoted(model) + ""","options":{"language":""" + Quoted(language) + "}}}}";

    /// <summary><c>encodeImage</c>'s entries: <c>{clip: {visual: {modelName}}}</c>.</summary>
    public static string ImageEntries(string model = "ViT-B-32__openai") => """{"clip":{"visual":{"modelName":""" + Quoted(model) + "}}}";

    // As JSON.stringify writes a string.
    private static string Quoted(string value) => JsonSerializer.Serialize(value);

    /// <summary><c>detectFaces</c>'s entries, with the face model buffalo_l.</summary>
    public const string FaceEntries = """{"facial-recognition":{"detection":{"modelName":"buffalo_l","options":{"minScore":0.7}},"recognition":{"modelName":"buffalo_l"}}}""";

    /// <summary><c>ocr</c>'s entries, with the OCR model PP-OCRv5_mobile.</summary>
    public const string OcrEntries = """{"ocr":{"detection":{"modelName":"PP-OCRv5_mobile","options":{"minScore":0.5,"maxResolution":736}},"recognition":{"modelName":"PP-OCRv5_mobile","options":{"minScore":0.8}}}}""";

    private const string TextBoundary = "----formdata-undici-015519150225";
    private const string ImageBoundary = "----formdata-undici-046138674034";

    /// <summary>The multipart body of a text request, and its Content-Type.</summary>
    public static (byte[] Body, string ContentType) TextBody(string entries, string text) => (Encoding.UTF8.GetBytes(
        $"--{TextBoundary}\r\n" +
        "Content-Disposition: form-data; name=\"entries\"\r\n" +
        "\r\n" +
        $"{entries}\r\n" +
        $"--{TextBoundary}\r\n" +
        "Content-Disposition: form-data; name=\"text\"\r\n" +
        "\r\n" +
        $"{text}\r\n" +
        $"--{TextBoundary}--\r\n"), $"multipart/form-data; boundary={TextBoundary}");

    /// <summary>The multipart body of an image request (the Blob part: <c>filename="blob"</c>, octet-stream), and its Content-Type.</summary>
    public static (byte[] Body, string ContentType) ImageBody(string entries, byte[] image) => ([
        .. Encoding.UTF8.GetBytes(
            $"--{ImageBoundary}\r\n" +
            "Content-Disposition: form-data; name=\"entries\"\r\n" +
            "\r\n" +
            $"{entries}\r\n" +
            $"--{ImageBoundary}\r\n" +
            "Content-Disposition: form-data; name=\"image\"; filename=\"blob\"\r\n" +
            "Content-Type: application/octet-stream\r\n" +
            "\r\n"),
        .. image,
        .. Encoding.UTF8.GetBytes($"\r\n--{ImageBoundary}--\r\n")], $"multipart/form-data; boundary={ImageBoundary}");

    /// <summary><c>assetId</c> instead of an image, as Immich sends it for models that read its storage.</summary>
    public static (byte[] Body, string ContentType) AssetIdBody(string entries, string assetId) => (Encoding.UTF8.GetBytes(
        $"--{TextBoundary}\r\n" +
        "Content-Disposition: form-data; name=\"entries\"\r\n" +
        "\r\n" +
        $"{entries}\r\n" +
        $"--{TextBoundary}\r\n" +
        "Content-Disposition: form-data; name=\"assetId\"\r\n" +
        "\r\n" +
        $"{assetId}\r\n" +
        $"--{TextBoundary}--\r\n"), $"multipart/form-data; boundary={TextBoundary}");

    /// <summary>The request as an <see cref="HttpContent"/> with exactly these bytes (for in-memory servers).</summary>
    public static HttpContent Content((byte[] Body, string ContentType) request)
    {
        var content = new ByteArrayContent(request.Body);
        content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        return content;
    }

    /// <summary>
    /// Sends <paramref name="method"/> <paramref name="path"/> to <paramref name="server"/> over a socket as Node's
    /// fetch does, every byte (headers included) as it writes them, from <paramref name="from"/> (a loopback
    /// address; default 127.0.0.1); returns the status, the Content-Type and the body.
    /// </summary>
    public static async Task<(int Status, string? ContentType, byte[] Body)> SendAsync(Uri server, string method, string path, (byte[] Body, string ContentType)? request = null, IPAddress? from = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(from ?? IPAddress.Loopback, 0));
        await socket.ConnectAsync(server.Host, server.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var head = new StringBuilder();
        head.Append($"{method} {path} HTTP/1.1\r\n");
        head.Append($"host: {server.Authority}\r\n");
        head.Append("connection: keep-alive\r\n");
        if (request is { } r)
        {
            head.Append($"content-type: {r.ContentType}\r\n");
        }

        head.Append("accept: */*\r\naccept-language: *\r\nsec-fetch-mode: cors\r\nuser-agent: node\r\naccept-encoding: gzip, deflate\r\n");
        if (request is { } withBody)
        {
            head.Append($"content-length: {withBody.Body.Length}\r\n");
        }

        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        if (request is { } sent)
        {
            await stream.WriteAsync(sent.Body);
        }

        return await ReadResponseAsync(stream);
    }

    /// <summary>As Immich reads an answer: <c>response.json()</c>, then <c>response["clip"]</c>, a string it keeps; here also <c>JSON.parse</c> of it.</summary>
    public static (float[] Clip, int? Height, int? Width) Parse(byte[] body)
    {
        using var answer = JsonDocument.Parse(body);
        var clip = answer.RootElement.GetProperty("clip");
        Assert.Equal(JsonValueKind.String, clip.ValueKind);
        var numbers = JsonSerializer.Deserialize<double[]>(clip.GetString()!)!;   // JavaScript's numbers are doubles
        int? Size(string name) => answer.RootElement.TryGetProperty(name, out var v) ? v.GetInt32() : null;
        return ([.. numbers.Select(n => (float)n)], Size("imageHeight"), Size("imageWidth"));
    }

    private static async Task<(int Status, string? ContentType, byte[] Body)> ReadResponseAsync(Stream stream)
    {
        var reader = new BufferedReader(stream);
        var status = await reader.LineAsync();
        var code = int.Parse(status.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var line = await reader.LineAsync(); line.Length > 0; line = await reader.LineAsync())
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        byte[] body;
        if (headers.TryGetValue("Content-Length", out var length))
        {
            body = await reader.BytesAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture));
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var all = new List<byte>();
            for (var size = Convert.ToInt32((await reader.LineAsync()).Split(';')[0], 16); size > 0; size = Convert.ToInt32((await reader.LineAsync()).Split(';')[0], 16))
            {
                all.AddRange(await reader.BytesAsync(size));
                await reader.LineAsync();
            }

            await reader.LineAsync();
            body = [.. all];
        }
        else
        {
            body = [];
        }

        return (code, headers.GetValueOrDefault("Content-Type"), body);
    }

    private sealed class BufferedReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<string> LineAsync()
        {
            var line = new List<byte>();
            while (true)
            {
                var b = await ByteAsync();
                if (b == '\n')
                {
                    return Encoding.ASCII.GetString([.. line]).TrimEnd('\r');
                }

                line.Add(b);
            }
        }

        public async Task<byte[]> BytesAsync(int count)
        {
            var bytes = new byte[count];
            for (var i = 0; i < count; i++)
            {
                bytes[i] = await ByteAsync();
            }

            return bytes;
        }

        private async ValueTask<byte> ByteAsync()
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await stream.ReadAsync(_buffer);
                if (_end == 0)
                {
                    throw new EndOfStreamException("The server closed the connection mid-answer.");
                }
            }

            return _buffer[_start++];
        }
    }
}

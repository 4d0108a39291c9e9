using System.Buffers.Binary;
using System.IO.Compression;

namespace ClipSearch.Tests;

/// <summary>How a generated JPEG is laid out in scans.</summary>
internal enum JpegLayout
{
    /// <summary>Baseline (SOF0), one scan holding every component (what cameras write).</summary>
    Baseline,

    /// <summary>Baseline (SOF0), one scan per component: libjpeg keeps the whole image's coefficients, as for a progressive file.</summary>
    BaselineMultiScan,

    /// <summary>Progressive (SOF2): the DC coefficients of every component in one scan, then each component's AC in a scan of its own.</summary>
    Progressive,
}

/// <summary>
/// Large images of one colour in the layouts whose decoders hold more than the decoded pixels (progressive and
/// multi-scan JPEG, interlaced and 16-bit PNG, GIF, BMP), written by hand so that tests make them on the spot:
/// Skia writes neither progressive JPEGs, interlaced PNGs nor GIFs, and large fixtures do not belong in the repository.
/// </summary>
internal static class LargeImages
{
    private static readonly byte[] DcBits = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] DcValues = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

    // AC: only end-of-block (0x00) is ever written; 0xF0 is there so that no code is all ones.
    private static readonly byte[] AcBits = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] AcValues = [0x00, 0xF0];

    /// <summary>
    /// A JPEG of one colour (Y, Cb, Cr = 150, 100, 160; grey: 150), <paramref name="width"/> × <paramref name="height"/>,
    /// luma sampled <paramref name="lumaH"/> × <paramref name="lumaV"/> times as often as chroma (1 × 1: 4:4:4, 2 × 2: 4:2:0).
    /// </summary>
    public static byte[] Jpeg(int width, int height, JpegLayout layout, int lumaH = 1, int lumaV = 1, bool grey = false)
    {
        var components = grey
            ? new[] { (Id: 1, H: 1, V: 1, Value: 150) }
            : [(1, lumaH, lumaV, 150), (2, 1, 1, 100), (3, 1, 1, 160)];
        int hMax = components.Max(c => c.H), vMax = components.Max(c => c.V);
        using var file = new MemoryStream();
        void Marker(int code, ReadOnlySpan<byte> payload)
        {
            file.WriteByte(0xFF);
            file.WriteByte((byte)code);
            file.WriteByte((byte)((payload.Length + 2) >> 8));
            file.WriteByte((byte)(payload.Length + 2));
            file.Write(payload);
        }

        file.Write([0xFF, 0xD8]);
        var quant = new byte[65];
        Array.Fill(quant, (byte)1);
        quant[0] = 0;
        Marker(0xDB, quant);
        var frame = new List<byte> { 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, (byte)components.Length };
        foreach (var c in components)
        {
            frame.AddRange([(byte)c.Id, (byte)((c.H << 4) | c.V), 0]);
        }

        Marker(layout == JpegLayout.Progressive ? 0xC2 : 0xC0, frame.ToArray());
        Marker(0xC4, [0x00, .. DcBits, .. DcValues]);
        Marker(0xC4, [0x10, .. AcBits, .. AcValues]);
        var dc = Codes(DcBits, DcValues);
        var ac = Codes(AcBits, AcValues);

        // Every block of a component has the same DC (8 × (value − 128)); only the first differs from its predictor.
        void Scan(int[] members, int start, int end)
        {
            var header = new List<byte> { (byte)members.Length };
            foreach (var m in members)
            {
                header.AddRange([(byte)components[m].Id, 0x00]);
            }

            header.AddRange([(byte)start, (byte)end, 0]);
            Marker(0xDA, header.ToArray());
            var bits = new BitWriter(file);
            var predictor = new int[components.Length];
            void Block(int m)
            {
                if (start == 0)
                {
                    var value = 8 * (components[m].Value - 128);
                    var diff = value - predictor[m];
                    predictor[m] = value;
                    var category = diff == 0 ? 0 : 32 - int.LeadingZeroCount(Math.Abs(diff));
                    bits.Write(dc[category]);
                    if (category > 0)
                    {
                        var magnitude = (diff < 0 ? diff - 1 : diff) & ((1 << category) - 1);
                        bits.Write(magnitude, category);
                    }
                }

                if (end > 0)
                {
                    bits.Write(ac[0x00]);   // end of block: every AC coefficient is 0
                }
            }

            if (members.Length > 1)
            {
                int mcusAcross = Ceiling(width, 8 * hMax), mcusDown = Ceiling(height, 8 * vMax);
                for (long mcu = 0; mcu < (long)mcusAcross * mcusDown; mcu++)
                {
                    foreach (var m in members)
                    {
                        for (var b = 0; b < components[m].H * components[m].V; b++)
                        {
                            Block(m);
                        }
                    }
                }
            }
            else
            {
                var c = components[members[0]];
                long blocks = (long)Ceiling(Ceiling(width * c.H, hMax), 8) * Ceiling(Ceiling(height * c.V, vMax), 8);
                for (long b = 0; b < blocks; b++)
                {
                    Block(members[0]);
                }
            }

            bits.Flush();
        }

        var all = Enumerable.Range(0, components.Length).ToArray();
        switch (layout)
        {
            case JpegLayout.Baseline:
                Scan(all, 0, 63);
                break;
            case JpegLayout.BaselineMultiScan:
                foreach (var m in all)
                {
                    Scan([m], 0, 63);
                }

                break;
            default:
                Scan(all, 0, 0);
                foreach (var m in all)
                {
                    Scan([m], 1, 63);
                }

                break;
        }

        file.Write([0xFF, 0xD9]);
        return file.ToArray();
    }

    /// <summary>
    /// A PNG of one colour: colour type 0 (grey), 2 (RGB) or 6 (RGBA), 8 or 16 bits a channel, Adam7-interlaced or not.
    /// </summary>
    public static byte[] Png(int width, int height, int colourType, int bitDepth, bool interlaced)
    {
        int channels = colourType switch { 0 => 1, 2 => 3, 6 => 4, _ => throw new ArgumentOutOfRangeException(nameof(colourType)) };
        int bytesPerPixel = channels * bitDepth / 8;
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = (byte)bitDepth;
        header[9] = (byte)colourType;
        header[12] = interlaced ? (byte)1 : (byte)0;
        PngChunks.Write(file, "IHDR", header);
        var pixel = new byte[bytesPerPixel];
        for (var i = 0; i < pixel.Length; i++)
        {
            pixel[i] = (byte)(90 + (40 * i));
        }

        var row = new byte[1 + ((long)width * bytesPerPixel)];
        for (var x = 0; x < width; x++)
        {
            pixel.CopyTo(row, 1 + (x * bytesPerPixel));
        }

        (int X, int Y, int Dx, int Dy)[] passes = interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)];
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            foreach (var (x0, y0, dx, dy) in passes)
            {
                int passWidth = width > x0 ? Ceiling(width - x0, dx) : 0;
                int passHeight = height > y0 ? Ceiling(height - y0, dy) : 0;
                if (passWidth == 0)
                {
                    continue;
                }

                for (var y = 0; y < passHeight; y++)
                {
                    zlib.Write(row, 0, 1 + (passWidth * bytesPerPixel));
                }
            }
        }

        PngChunks.Write(file, "IDAT", compressed.ToArray());
        PngChunks.Write(file, "IEND", []);
        return file.ToArray();
    }

    /// <summary>A GIF of two colours, every pixel the first (LZW-compressed), optionally interlaced.</summary>
    public static byte[] Gif(int width, int height, bool interlaced = false)
    {
        using var file = new MemoryStream();
        file.Write("GIF89a"u8);
        void Word(int value)
        {
            file.WriteByte((byte)value);
            file.WriteByte((byte)(value >> 8));
        }

        Word(width);
        Word(height);
        file.Write([0x80, 0, 0]);                 // a global colour table of 2 entries
        file.Write([200, 120, 40, 10, 20, 30]);
        file.WriteByte(0x2C);
        Word(0);
        Word(0);
        Word(width);
        Word(height);
        file.WriteByte(interlaced ? (byte)0x40 : (byte)0);
        const int minimumCodeSize = 2;
        file.WriteByte(minimumCodeSize);

        // LZW over width × height zeros.
        using var data = new MemoryStream();
        int clear = 1 << minimumCodeSize, endOfData = clear + 1;
        var table = new Dictionary<int, int>();
        int next = clear + 2, codeSize = minimumCodeSize + 1;
        long buffer = 0;
        int count = 0;
        void Emit(int code)
        {
            buffer |= (long)code << count;
            count += codeSize;
            while (count >= 8)
            {
                data.WriteByte((byte)buffer);
                buffer >>= 8;
                count -= 8;
            }
        }

        Emit(clear);
        int prefix = 0;
        for (long i = 1; i < (long)width * height; i++)
        {
            var key = prefix << 8;   // the next pixel is 0 as well
            if (table.TryGetValue(key, out var code))
            {
                prefix = code;
                continue;
            }

            Emit(prefix);
            if (next < 4096)
            {
                table[key] = next++;
                if (next > (1 << codeSize) && codeSize < 12)
                {
                    codeSize++;
                }
            }
            else
            {
                Emit(clear);
                table.Clear();
                next = clear + 2;
                codeSize = minimumCodeSize + 1;
            }

            prefix = 0;
        }

        Emit(prefix);
        Emit(endOfData);
        if (count > 0)
        {
            data.WriteByte((byte)buffer);
        }

        var bytes = data.ToArray();
        for (var offset = 0; offset < bytes.Length; offset += 255)
        {
            var length = Math.Min(255, bytes.Length - offset);
            file.WriteByte((byte)length);
            file.Write(bytes, offset, length);
        }

        file.Write([0, 0x3B]);
        return file.ToArray();
    }

    /// <summary>An uncompressed BMP of one colour, 24 or 32 bits a pixel, stored bottom-up.</summary>
    public static byte[] Bmp(int width, int height, int bitsPerPixel = 24)
    {
        int bytesPerPixel = bitsPerPixel / 8;
        long row = ((long)width * bytesPerPixel + 3) & ~3L;
        var bytes = new byte[54 + (row * height)];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), (int)Math.Min(int.MaxValue, bytes.LongLength));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), (short)bitsPerPixel);
        for (long y = 0; y < height; y++)
        {
            var start = 54 + (y * row);
            for (long x = 0; x < width; x++)
            {
                bytes[start + (x * bytesPerPixel)] = 40;
                bytes[start + (x * bytesPerPixel) + 1] = 120;
                bytes[start + (x * bytesPerPixel) + 2] = 200;
                if (bytesPerPixel == 4)
                {
                    bytes[start + (x * bytesPerPixel) + 3] = 255;
                }
            }
        }

        return bytes;
    }

    private static int Ceiling(int value, int divisor) => (value + divisor - 1) / divisor;

    // Canonical Huffman codes (JPEG Annex C) of a table given as counts per length and symbols.
    private static Dictionary<int, (int Code, int Length)> Codes(byte[] bits, byte[] values)
    {
        var codes = new Dictionary<int, (int, int)>();
        int code = 0, k = 0;
        for (var length = 1; length <= 16; length++)
        {
            for (var i = 0; i < bits[length - 1]; i++)
            {
                codes[values[k++]] = (code++, length);
            }

            code <<= 1;
        }

        return codes;
    }

    /// <summary>Writes bits most significant first, stuffing a zero byte after every 0xFF (JPEG entropy-coded data).</summary>
    private sealed class BitWriter(Stream stream)
    {
        private int _buffer;
        private int _count;

        public void Write((int Code, int Length) code) => Write(code.Code, code.Length);

        public void Write(int value, int length)
        {
            for (var i = length - 1; i >= 0; i--)
            {
                _buffer = (_buffer << 1) | ((value >> i) & 1);
                if (++_count == 8)
                {
                    Put();
                }
            }
        }

        public void Flush()
        {
            while (_count != 0)
            {
                Write(1, 1);   // pad with ones
            }
        }

        private void Put()
        {
            stream.WriteByte((byte)_buffer);
            if (_buffer == 0xFF)
            {
                stream.WriteByte(0);
            }

            _buffer = 0;
            _count = 0;
        }
    }
}

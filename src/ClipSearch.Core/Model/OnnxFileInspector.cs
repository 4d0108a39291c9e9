using System.Text;

namespace ClipSearch.Core.Model;

/// <summary>What an ONNX file holds besides its graph: its weights (initializers), read without loading them.</summary>
/// <param name="ParameterCount">Elements in all initializers (weights, biases, quantization scales and zero points).</param>
/// <param name="InitializerCount">Number of initializer tensors.</param>
/// <param name="ExternalDataFiles">Files beside the model that hold its weights (<c>*.onnx_data</c>), relative to it.</param>
/// <param name="LogitScale">The <c>logit_scale</c> initializer (log of CLIP's temperature) when the graph carries one.</param>
public sealed record OnnxFileSummary(long ParameterCount, int InitializerCount, IReadOnlyList<string> ExternalDataFiles, float? LogitScale);

/// <summary>
/// Walks an ONNX file's protobuf (ModelProto → GraphProto → TensorProto) to sum its initializers. Weight bytes
/// are skipped with seeks, so a 350 MB file costs a few milliseconds. ONNX Runtime does not expose initializers,
/// hence this small reader of the wire format (field numbers from onnx.proto).
/// </summary>
public static class OnnxFileInspector
{
    private const int ModelGraph = 7;           // ModelProto.graph
    private const int GraphInitializer = 5;     // GraphProto.initializer
    private const int TensorDims = 1;           // TensorProto.dims
    private const int TensorFloatData = 4;      // TensorProto.float_data
    private const int TensorName = 8;           // TensorProto.name
    private const int TensorRawData = 9;        // TensorProto.raw_data
    private const int TensorExternalData = 13;  // TensorProto.external_data
    private const int EntryKey = 1;             // StringStringEntryProto.key
    private const int EntryValue = 2;           // StringStringEntryProto.value

    /// <summary>Reads the summary of <paramref name="path"/>; a file that is not ONNX gives a <see cref="ModelLoadException"/>.</summary>
    public static OnnxFileSummary Inspect(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var reader = new ProtoReader(stream);
            var summary = new Accumulator();
            reader.ReadMessage(stream.Length, (field, wire) =>
            {
                if (field == ModelGraph && wire == 2)
                {
                    reader.ReadNested((f, w) =>
                    {
                        if (f == GraphInitializer && w == 2)
                        {
                            reader.ReadNested((tf, tw) => ReadTensorField(reader, tf, tw, summary.Current));
                            summary.Close();
                            return true;
                        }

                        return false;
                    });
                    return true;
                }

                return false;
            });
            return summary.ToSummary();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or OverflowException)
        {
            throw new ModelLoadException($"{path} is not a valid ONNX file (truncated or corrupt: {e.Message}).", e);
        }
    }

    private static bool ReadTensorField(ProtoReader reader, int field, int wire, TensorInfo tensor)
    {
        switch (field)
        {
            case TensorDims when wire == 0:
                tensor.Dims.Add((long)reader.ReadVarint());
                return true;
            case TensorDims when wire == 2:
                reader.ReadNestedBytes(bytes =>
                {
                    var offset = 0;
                    while (offset < bytes.Length)
                    {
                        tensor.Dims.Add((long)ProtoReader.ReadVarint(bytes, ref offset));
                    }
                });
                return true;
            case TensorName when wire == 2:
                reader.ReadNestedBytes(bytes => tensor.Name = Encoding.UTF8.GetString(bytes));
                return true;
            case TensorRawData or TensorFloatData when wire == 2:
                var length = reader.PeekLength();
                if (length == 4)
                {
                    reader.ReadNestedBytes(bytes => tensor.ScalarFloat = BitConverter.ToSingle(bytes));
                    return true;
                }

                return false;
            case TensorFloatData when wire == 5:
                tensor.ScalarFloat = reader.ReadFixed32Float();
                return true;
            case TensorExternalData when wire == 2:
                string? key = null, value = null;
                reader.ReadNested((f, w) =>
                {
                    if (w != 2 || (f != EntryKey && f != EntryValue))
                    {
                        return false;
                    }

                    reader.ReadNestedBytes(bytes =>
                    {
                        if (f == EntryKey) { key = Encoding.UTF8.GetString(bytes); } else { value = Encoding.UTF8.GetString(bytes); }
                    });
                    return true;
                });
                if (key == "location" && value is not null)
                {
                    tensor.ExternalLocation = value;
                }

                return true;
            default:
                return false;
        }
    }

    private sealed class TensorInfo
    {
        public List<long> Dims { get; } = [];
        public string? Name { get; set; }
        public float? ScalarFloat { get; set; }
        public string? ExternalLocation { get; set; }
    }

    private sealed class Accumulator
    {
        private long _parameters;
        private int _count;
        private float? _logitScale;
        private readonly SortedSet<string> _external = new(StringComparer.Ordinal);

        public TensorInfo Current { get; private set; } = new();

        public void Close()
        {
            var t = Current;
            long elements = 1;
            foreach (var d in t.Dims)
            {
                elements = checked(elements * d);
            }

            _parameters += elements;
            _count++;
            if (t.ExternalLocation is not null)
            {
                _external.Add(t.ExternalLocation);
            }

            if (t.Dims.Count == 0 && t.ScalarFloat is float f && t.Name is not null
                && t.Name.EndsWith("logit_scale", StringComparison.Ordinal))
            {
                _logitScale = f;
            }

            Current = new TensorInfo();
        }

        public OnnxFileSummary ToSummary() => new(_parameters, _count, [.. _external], _logitScale);
    }

    /// <summary>A forward-only protobuf reader over a seekable stream that skips what it is not asked to read.</summary>
    private sealed class ProtoReader(Stream stream)
    {
        private readonly Stream _stream = stream;
        private long _limit = stream.Length;

        /// <summary>Reads fields until <paramref name="end"/>; <paramref name="onField"/> returns false to skip a field.</summary>
        public void ReadMessage(long end, Func<int, int, bool> onField)
        {
            var outer = _limit;
            _limit = end;
            while (_stream.Position < end)
            {
                var key = ReadVarint();
                var field = (int)(key >> 3);
                var wire = (int)(key & 7);
                if (field == 0)
                {
                    throw new InvalidDataException("field number 0");
                }

                if (!onField(field, wire))
                {
                    Skip(wire);
                }
            }

            if (_stream.Position != end)
            {
                throw new InvalidDataException("a message overruns its length");
            }

            _limit = outer;
        }

        public void ReadNested(Func<int, int, bool> onField)
        {
            var length = ReadLength();
            ReadMessage(_stream.Position + length, onField);
        }

        public void ReadNestedBytes(Action<byte[]> onBytes)
        {
            var length = ReadLength();
            if (length > 1 << 20)
            {
                throw new InvalidDataException("an unexpectedly long field");
            }

            var bytes = new byte[length];
            _stream.ReadExactly(bytes);
            onBytes(bytes);
        }

        public long PeekLength()
        {
            var position = _stream.Position;
            var length = ReadLength();
            _stream.Position = position;
            return length;
        }

        public float ReadFixed32Float()
        {
            Span<byte> b = stackalloc byte[4];
            _stream.ReadExactly(b);
            return BitConverter.ToSingle(b);
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = _stream.ReadByte();
                if (b < 0)
                {
                    throw new EndOfStreamException("the file ends inside a field");
                }

                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw new InvalidDataException("a malformed varint");
        }

        public static ulong ReadVarint(byte[] bytes, ref int offset)
        {
            ulong result = 0;
            for (var shift = 0; shift < 64 && offset < bytes.Length; shift += 7)
            {
                var b = bytes[offset++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw new InvalidDataException("a malformed packed varint");
        }

        private long ReadLength()
        {
            var length = (long)ReadVarint();
            if (length < 0 || _stream.Position + length > _limit)
            {
                throw new InvalidDataException("a field runs past the end of the file");
            }

            return length;
        }

        private void Skip(int wire)
        {
            switch (wire)
            {
                case 0: ReadVarint(); break;
                case 1: Seek(8); break;
                case 2: Seek(ReadLength()); break;
                case 5: Seek(4); break;
                default: throw new InvalidDataException($"unsupported wire type {wire}");
            }
        }

        private void Seek(long count)
        {
            if (_stream.Position + count > _limit)
            {
                throw new EndOfStreamException("the file ends inside a field");
            }

            _stream.Seek(count, SeekOrigin.Current);
        }
    }
}

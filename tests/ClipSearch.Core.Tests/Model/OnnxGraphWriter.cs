using System.Text;

namespace ClipSearch.Core.Tests.Model;

/// <summary>
/// Writes small ONNX graphs (protobuf wire format, field numbers from onnx.proto) for tests that need a graph the
/// fixtures do not have, such as float16 inputs and outputs.
/// </summary>
internal static class OnnxGraphWriter
{
    public const int FloatType = 1;
    public const int Int64Type = 7;
    public const int Float16Type = 10;

    public static byte[] ModelProto(byte[] graph) =>
        Cat(Varint(1, 8), Bytes(8, Cat(Bytes(1, ""u8.ToArray()), Varint(2, 13))), Bytes(7, graph)); // ir 8, opset 13

    public static byte[] Graph(string name, byte[][] nodes, byte[][] inputs, byte[][] outputs) =>
        Cat([.. nodes.Select(n => Bytes(1, n)), Bytes(2, Utf8(name)), .. inputs.Select(i => Bytes(11, i)), .. outputs.Select(o => Bytes(12, o))]);

    public static byte[] Node(string op, string[] inputs, string output, params byte[][] attributes) =>
        Cat([.. inputs.Select(i => Bytes(1, Utf8(i))), Bytes(2, Utf8(output)), Bytes(3, Utf8(output + "_node")), Bytes(4, Utf8(op)), .. attributes.Select(a => Bytes(5, a))]);

    public static byte[] IntAttribute(string name, long value) => Cat(Bytes(1, Utf8(name)), Varint(3, (ulong)value), Varint(20, 2));

    public static byte[] IntsAttribute(string name, params long[] values) =>
        Cat([Bytes(1, Utf8(name)), .. values.Select(v => Varint(8, (ulong)v)), Varint(20, 7)]);

    /// <summary>A tensor value: dims are numbers or symbolic names.</summary>
    public static byte[] Value(string name, int elementType, params object[] dims)
    {
        var shape = Cat([.. dims.Select(d => Bytes(1, d is string s ? Bytes(2, Utf8(s)) : Varint(1, Convert.ToUInt64(d, System.Globalization.CultureInfo.InvariantCulture))))]);
        var tensorType = Cat(Varint(1, (ulong)elementType), Bytes(2, shape));
        return Cat(Bytes(1, Utf8(name)), Bytes(2, Bytes(1, tensorType)));
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Varint(int field, ulong value) => Cat(Raw((ulong)(field << 3)), Raw(value));

    private static byte[] Bytes(int field, byte[] payload) => Cat(Raw((ulong)((field << 3) | 2)), Raw((ulong)payload.Length), payload);

    private static byte[] Raw(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static byte[] Cat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}

using System.Runtime.InteropServices;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// An 8-bit image in memory between the stages: one channel (grey) or four (RGBA, as Pillow stores RGB, RGBA, LA
/// and expanded palettes), rows top to bottom with no padding.
/// </summary>
/// <remarks>
/// Buffers of <see cref="NativeThresholdBytes"/> or more live in native memory (<see cref="NativeMemory"/>), not
/// on the managed heap: a decoded photo is hundreds of megabytes, which as a managed array would sit on the large
/// object heap as garbage until a full collection (a burst of large images once left gigabytes resident for
/// minutes). Native buffers go back to the system when disposed (glibc maps allocations this large directly and
/// unmaps them on free). Every owner disposes its buffers as soon as the next stage has made its own; a buffer that
/// is never disposed is freed by its handle's finalizer. The owner's Dispose after the last use also keeps the
/// buffer reachable while spans over it are in use. Smaller buffers are plain arrays (the GC's youngest generation
/// handles them well).
/// </remarks>
internal sealed class PixelBuffer : IDisposable
{
    /// <summary>Buffers this large or larger are native: the size from which .NET puts arrays on the large object heap.</summary>
    public const int NativeThresholdBytes = 85_000;

    [ThreadStatic]
    private static long _threadLive;

    [ThreadStatic]
    private static long _threadPeak;

    private readonly byte[]? _array;
    private readonly NativeBytes? _native;
    private readonly int _length;
    private bool _counted;

    /// <summary>Wraps <paramref name="data"/> (not copied); for tests and small images.</summary>
    public PixelBuffer(int width, int height, int channels, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        _length = CheckShape(width, height, channels);
        if (data.LongLength < _length)
        {
            throw new ArgumentException("The pixel data is shorter than width × height × channels.", nameof(data));
        }

        Width = width;
        Height = height;
        Channels = channels;
        _array = data;
    }

    private PixelBuffer(int width, int height, int channels, int length, NativeBytes native)
    {
        Width = width;
        Height = height;
        Channels = channels;
        _length = length;
        _native = native;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>1 (grey) or 4 (R, G, B, A).</summary>
    public int Channels { get; }

    /// <summary>Bytes per row: <see cref="Width"/> × <see cref="Channels"/>.</summary>
    public int Stride => Width * Channels;

    /// <summary>Width × height × channels: the bytes of pixels.</summary>
    public int Length => _length;

    /// <summary>Whether the pixels are in native memory (see the remarks on the class).</summary>
    public bool IsNative => _native is not null;

    /// <summary>The pixels (<see cref="Length"/> bytes). Not to be used after <see cref="Dispose"/>.</summary>
    public unsafe Span<byte> Span
    {
        get
        {
            if (_array is not null)
            {
                return _array.AsSpan(0, _length);
            }

            ObjectDisposedException.ThrowIf(_native!.IsClosed, this);
            return new Span<byte>((void*)_native.DangerousGetHandle(), _length);
        }
    }

    /// <summary>
    /// The most bytes of <see cref="Allocate"/>d buffers this thread held at once since <see cref="ResetThreadPeak"/>
    /// (tests check <see cref="ImageLoader.PeakBytes"/> against it; a buffer counts until it is disposed).
    /// </summary>
    public static long ThreadPeak => _threadPeak;

    /// <summary>Starts <see cref="ThreadPeak"/> again from what this thread holds now.</summary>
    public static void ResetThreadPeak() => _threadPeak = _threadLive;

    /// <summary>A buffer whose contents are not cleared (every byte is written by its producer).</summary>
    public static PixelBuffer Allocate(int width, int height, int channels)
    {
        int length = CheckShape(width, height, channels);
        var buffer = length < NativeThresholdBytes
            ? new PixelBuffer(width, height, channels, GC.AllocateUninitializedArray<byte>(length))
            : new PixelBuffer(width, height, channels, length, NativeBytes.Allocate(length));
        buffer._counted = true;
        _threadLive += length;
        _threadPeak = Math.Max(_threadPeak, _threadLive);
        return buffer;
    }

    /// <summary>The bytes <see cref="Allocate"/> takes for an image of this shape.</summary>
    public static long BytesFor(int width, int height, int channels) => (long)width * height * channels;

    /// <summary>A managed copy of the pixels (tests).</summary>
    public byte[] ToArray() => Span.ToArray();

    /// <summary>Frees native pixels now (managed ones are left to the GC).</summary>
    public void Dispose()
    {
        if (_counted)
        {
            _counted = false;
            _threadLive -= _length;
        }

        _native?.Dispose();
    }

    private static int CheckShape(int width, int height, int channels)
    {
        if (channels is not (1 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "A pixel buffer has 1 or 4 channels.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        long length = BytesFor(width, height, channels);
        if (length > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"{width}×{height}×{channels} bytes is more than one buffer holds.");
        }

        return (int)length;
    }

    /// <summary>Native memory owned by a handle: freed once, by Dispose or else by the handle's finalizer.</summary>
    private sealed class NativeBytes : SafeHandle
    {
        private long _bytes;

        private NativeBytes()
            : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        public static unsafe NativeBytes Allocate(int length)
        {
            var native = new NativeBytes();
            native.SetHandle((IntPtr)NativeMemory.Alloc((nuint)length));
            native._bytes = length;
            // Tells the GC what an undisposed buffer costs, so that its finalizer runs soon enough.
            GC.AddMemoryPressure(length);
            return native;
        }

        protected override unsafe bool ReleaseHandle()
        {
            NativeMemory.Free((void*)handle);
            GC.RemoveMemoryPressure(_bytes);
            return true;
        }
    }
}

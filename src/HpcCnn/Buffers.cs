namespace HpcCnn;

/// <summary>
/// A float buffer where a backend computes: host memory for <c>Reference</c> and <c>Cpu</c>, device
/// memory for <c>OpenCl</c> (see <see cref="OpenCl.OpenClTensor"/>). Plans run on buffers of their
/// own backend without copies, so a chain of operations on an OpenCL device never returns to the
/// host between layers; only <see cref="Download(Span{float}, long)"/> reads results back. Integer roles (max
/// pooling's argmax) use a buffer of the same element count.
/// </summary>
public abstract class DeviceBuffer : IDisposable
{
    private protected DeviceBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
    }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Copies <paramref name="source"/> in from element <paramref name="offset"/> on; returns when the span may be reused.</summary>
    public abstract void Upload(ReadOnlySpan<float> source, long offset = 0);

    /// <summary>Waits for queued work that writes the buffer, then copies elements from <paramref name="offset"/> on.</summary>
    public abstract void Download(Span<float> destination, long offset = 0);

    /// <summary>Copies int32 values (labels, argmax indices) in, bit for bit, from element <paramref name="offset"/> on.</summary>
    public void Upload(ReadOnlySpan<int> source, long offset = 0) => Upload(System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(source), offset);

    /// <summary>Copies elements out as the int32 values they hold.</summary>
    public void Download(Span<int> destination, long offset = 0) => Download(System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(destination), offset);

    /// <summary>The whole buffer as a new array (waits for queued work).</summary>
    public float[] ToArray()
    {
        var result = new float[checked((int)Length)];
        Download(result);
        return result;
    }

    public abstract void Dispose();

    private protected void CheckRange(long offset, int count, string parameter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset + count > Length)
            throw new ArgumentException($"{count} elements from offset {offset} do not fit a buffer of {Length}", parameter);
    }
}

/// <summary>A buffer in host memory, for the backends that compute on the host.</summary>
public sealed class HostBuffer : DeviceBuffer
{
    private float[]? data;

    internal HostBuffer(Backend owner, long length) : base(length)
    {
        if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(length), length, "more elements than an array holds");
        Owner = owner;
        data = new float[length];
    }

    internal Backend Owner { get; }

    /// <summary>The elements, for the host backends' plans.</summary>
    internal Span<float> Span => (data ?? throw new ObjectDisposedException(nameof(HostBuffer))).AsSpan();

    public override void Upload(ReadOnlySpan<float> source, long offset = 0)
    {
        CheckRange(offset, source.Length, nameof(source));
        source.CopyTo(Span[(int)offset..]);
    }

    public override void Download(Span<float> destination, long offset = 0)
    {
        CheckRange(offset, destination.Length, nameof(destination));
        Span.Slice((int)offset, destination.Length).CopyTo(destination);
    }

    public override void Dispose() => data = null;

    public override string ToString() => $"HostBuffer[{Length}]";
}

/// <summary>Checks of buffer arguments.</summary>
internal static class Buffers
{
    public static void Check(DeviceBuffer buffer, long required, string parameter)
    {
        ArgumentNullException.ThrowIfNull(buffer, parameter);
        Guard.Length(buffer.Length, required, parameter);
    }

    /// <summary>An output buffer must be none of the call's other buffers.</summary>
    public static void Distinct(DeviceBuffer output, string name, params ReadOnlySpan<DeviceBuffer?> others)
    {
        foreach (var other in others)
            if (ReferenceEquals(output, other)) throw new ArgumentException($"{name} must be a buffer of its own", name);
    }

    /// <summary>The host memory of a buffer of a host backend.</summary>
    public static Span<float> Host(DeviceBuffer buffer) =>
        buffer is HostBuffer host ? host.Span : throw new ArgumentException($"{buffer} belongs to another backend: this plan runs on host buffers");

    public static ReadOnlySpan<float> HostOrEmpty(DeviceBuffer? buffer) => buffer is null ? default : Host(buffer);

    public static Span<int> HostInts(DeviceBuffer buffer) => System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(Host(buffer));
}

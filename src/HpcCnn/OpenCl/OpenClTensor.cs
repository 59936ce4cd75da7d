namespace HpcCnn.OpenCl;

/// <summary>
/// A float buffer that lives on an OpenCL device. Plans run on tensors without host round trips:
/// operations are queued in order and nothing waits until <see cref="Download"/> reads results.
/// Create with <see cref="OpenClBackend.CreateTensor"/> or <see cref="OpenClBackend.Upload"/>.
/// </summary>
public sealed class OpenClTensor : IDisposable
{
    private readonly ClHandle buffer;
    private int disposed;

    internal OpenClTensor(OpenClDevice device, long length, ReadOnlySpan<float> initial = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        device.AddReference();
        try
        {
            buffer = device.CreateBuffer(length, initial);
        }
        catch
        {
            device.ReleaseReference();
            throw;
        }
        Device = device;
        Length = length;
    }

    /// <summary>Number of floats.</summary>
    public long Length { get; }

    internal OpenClDevice Device { get; }

    public bool IsDisposed => disposed != 0;

    internal ClHandle Buffer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return buffer;
        }
    }

    /// <summary>Copies <paramref name="source"/> into the tensor from element <paramref name="offset"/> on; returns when the span may be reused.</summary>
    public void Upload(ReadOnlySpan<float> source, long offset = 0)
    {
        CheckRange(offset, source.Length, nameof(source));
        Device.Write(Buffer, offset, source);
    }

    /// <summary>Waits for every queued operation that writes this tensor, then copies elements from <paramref name="offset"/> on into <paramref name="destination"/>.</summary>
    public void Download(Span<float> destination, long offset = 0)
    {
        CheckRange(offset, destination.Length, nameof(destination));
        Device.Read(Buffer, offset, destination);
    }

    /// <summary>The whole tensor as a new array (waits for queued work).</summary>
    public float[] ToArray()
    {
        var result = new float[checked((int)Length)];
        Download(result);
        return result;
    }

    private void CheckRange(long offset, int count, string parameter)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset + count > Length)
            throw new ArgumentException($"{count} elements from offset {offset} do not fit a tensor of {Length}", parameter);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        buffer.Dispose();
        Device.ReleaseReference();
    }

    public override string ToString() => $"OpenClTensor[{Length}] on {Device.Info.Name}";
}

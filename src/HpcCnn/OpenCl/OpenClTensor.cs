namespace HpcCnn.OpenCl;

/// <summary>
/// A float buffer that lives on an OpenCL device. Plans run on tensors without host round trips:
/// operations are queued in order and nothing waits until <see cref="Download"/> reads results.
/// Create with <see cref="OpenClBackend.CreateTensor"/>, <see cref="OpenClBackend.Upload"/> or
/// <see cref="Backend.Allocate"/>.
/// </summary>
public sealed class OpenClTensor : DeviceBuffer
{
    private readonly ClHandle buffer;
    private int disposed;

    internal OpenClTensor(OpenClDevice device, long length, ReadOnlySpan<float> initial = default) : base(length)
    {
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
    }

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
    public override void Upload(ReadOnlySpan<float> source, long offset = 0)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        CheckRange(offset, source.Length, nameof(source));
        Device.Write(Buffer, offset, source);
    }

    /// <summary>Waits for every queued operation that writes this tensor, then copies elements from <paramref name="offset"/> on into <paramref name="destination"/>.</summary>
    public override void Download(Span<float> destination, long offset = 0)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        CheckRange(offset, destination.Length, nameof(destination));
        Device.Read(Buffer, offset, destination);
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        buffer.Dispose();
        Device.ReleaseReference();
    }

    public override string ToString() => $"OpenClTensor[{Length}] on {Device.Info.Name}";
}

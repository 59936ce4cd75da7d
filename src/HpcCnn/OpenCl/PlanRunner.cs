namespace HpcCnn.OpenCl;

/// <summary>
/// What every OpenCL plan shares: the OpenCL objects it owns (kernels, weights, scratch), the lock
/// that keeps one run's argument setting and launches together (kernel objects hold their
/// arguments, and scratch buffers are per plan), the checks of device-buffer arguments, and the
/// staging buffers of the copying span path.
/// </summary>
internal sealed class PlanRunner : IDisposable
{
    private readonly object gate = new();
    private readonly List<ClHandle> owned = [];
    private readonly Dictionary<int, (ClHandle Buffer, long Length)> staging = [];
    private int disposed;

    public PlanRunner(OpenClDevice device)
    {
        device.AddReference();
        Device = device;
    }

    public OpenClDevice Device { get; }

    /// <summary>Keeps an OpenCL object until the plan is disposed.</summary>
    public ClHandle Own(ClHandle handle)
    {
        owned.Add(handle);
        return handle;
    }

    /// <summary>The device buffer of a tensor argument, which must live on this plan's device.</summary>
    public ClHandle Buffer(DeviceBuffer buffer, string name) =>
        buffer is OpenClTensor tensor && tensor.Device == Device
            ? tensor.Buffer
            : throw new ArgumentException($"{name}: the buffer belongs to another backend or device", name);

    /// <summary>Takes the plan's lock until the scope is disposed; fails once the plan is disposed.</summary>
    public Scope Lock()
    {
        Monitor.Enter(gate);
        if (disposed != 0)
        {
            Monitor.Exit(gate);
            throw new ObjectDisposedException(nameof(PlanRunner));
        }
        return new Scope(gate);
    }

    /// <summary>Holds the plan's lock: <c>using (runner.Lock()) { ... }</c>.</summary>
    public readonly struct Scope(object gate) : IDisposable
    {
        public void Dispose() => Monitor.Exit(gate);
    }

    /// <summary>A device buffer of at least <paramref name="length"/> floats for span slot <paramref name="slot"/>, made on first use; call under the lock.</summary>
    public ClHandle Staging(int slot, long length)
    {
        if (staging.TryGetValue(slot, out var existing) && existing.Length >= length) return existing.Buffer;
        var buffer = Own(Device.CreateBuffer(length));
        staging[slot] = (buffer, length);
        return buffer;
    }

    /// <summary>Copies a span into its staging slot (blocking) and returns the device buffer; null for an empty span; call under the lock.</summary>
    public ClHandle? StageIn(int slot, ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return null;
        var buffer = Staging(slot, values.Length);
        Device.Write(buffer, 0, values);
        return buffer;
    }

    /// <summary>The staging buffer of an output span, or null for an empty span; call under the lock.</summary>
    public ClHandle? StageOut(int slot, Span<float> values) => values.IsEmpty ? null : Staging(slot, values.Length);

    /// <summary>Copies a staging slot back into a span (waits for the queue); call under the lock.</summary>
    public void Read(ClHandle? buffer, Span<float> values)
    {
        if (buffer is not null) Device.Read(buffer, 0, values);
    }

    /// <summary>The device buffer of an optional tensor argument.</summary>
    public ClHandle? BufferOrNull(DeviceBuffer? buffer, string name) => buffer is null ? null : Buffer(buffer, name);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        lock (gate)
        {
            foreach (var handle in owned) handle.Dispose();
            owned.Clear();
            staging.Clear();
        }
        Device.ReleaseReference();
    }
}

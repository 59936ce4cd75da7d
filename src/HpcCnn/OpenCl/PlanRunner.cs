namespace HpcCnn.OpenCl;

/// <summary>
/// What every OpenCL plan shares: the OpenCL objects it owns (kernels, weights, scratch), the lock
/// that keeps one run's argument setting and launches together (kernel objects hold their
/// arguments, and scratch buffers are per plan), and the copying span path.
/// </summary>
internal sealed class PlanRunner : IDisposable
{
    private readonly object gate = new();
    private readonly List<ClHandle> owned = [];
    private readonly long inputLength, outputLength;
    private Action<ClHandle, ClHandle>? enqueue;
    private ClHandle? stagingInput, stagingOutput;
    private int disposed;

    public PlanRunner(OpenClDevice device, long inputLength, long outputLength)
    {
        device.AddReference();
        Device = device;
        this.inputLength = inputLength;
        this.outputLength = outputLength;
    }

    public OpenClDevice Device { get; }

    /// <summary>Keeps an OpenCL object until the plan is disposed.</summary>
    public ClHandle Own(ClHandle handle)
    {
        owned.Add(handle);
        return handle;
    }

    /// <summary>Sets what one run enqueues, given the input and output buffers.</summary>
    public void SetEnqueue(Action<ClHandle, ClHandle> steps) => enqueue = steps;

    /// <summary>Queues the run; returns without waiting.</summary>
    public void Run(OpenClTensor input, OpenClTensor output, bool inPlaceAllowed = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        if (input.Device != Device) throw new ArgumentException("the tensor belongs to another OpenCL backend", nameof(input));
        if (output.Device != Device) throw new ArgumentException("the tensor belongs to another OpenCL backend", nameof(output));
        Guard.Length(input.Length, inputLength, nameof(input));
        Guard.Length(output.Length, outputLength, nameof(output));
        if (!inPlaceAllowed && ReferenceEquals(input, output))
            throw new ArgumentException("input and output must be different tensors", nameof(output));
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed != 0, this);
            enqueue!(input.Buffer, output.Buffer);
        }
    }

    /// <summary>Copies the input to the device, runs, and copies the output back (blocking).</summary>
    public void RunSpans(ReadOnlySpan<float> input, Span<float> output)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed != 0, this);
            stagingInput ??= Own(Device.CreateBuffer(inputLength));
            stagingOutput ??= Own(Device.CreateBuffer(outputLength));
            Device.Write(stagingInput, 0, input[..checked((int)inputLength)]);
            enqueue!(stagingInput, stagingOutput);
            Device.Read(stagingOutput, 0, output[..checked((int)outputLength)]);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        lock (gate)
        {
            foreach (var handle in owned) handle.Dispose();
            owned.Clear();
        }
        Device.ReleaseReference();
    }
}

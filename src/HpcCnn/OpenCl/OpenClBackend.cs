using HpcCnn.Problems;

namespace HpcCnn.OpenCl;

/// <summary>Which set of kernel shapes OpenCL plans use.</summary>
public enum OpenClKernelStyle
{
    /// <summary>Gpu on GPU devices, Cpu on everything else.</summary>
    Auto,
    /// <summary>
    /// Wide per-work-item vectors (16 floats), register-tiled convolution (8 output channels x 16
    /// columns per work-item, no local memory), one padded row per work-item, small fixed
    /// work-groups: what CPU devices such as PoCL run fast.
    /// </summary>
    Cpu,
    /// <summary>
    /// 4-float vectors, implicit-GEMM convolution in 64x64 tiles staged in local memory by
    /// 256-work-item groups, one padded element per work-item (coalesced), work-groups sized from
    /// the kernel's preferred multiple: what GPUs run fast.
    /// </summary>
    Gpu,
}

/// <summary>Which OpenCL device a backend runs on, and where compiled programs are cached.</summary>
public sealed record OpenClBackendOptions
{
    /// <summary>The device's position among all devices of all platforms, as <c>hpccnn info</c> numbers them.</summary>
    public int? DeviceIndex { get; init; }

    /// <summary>Picks the first device whose name contains this text (case-insensitive).</summary>
    public string? DeviceName { get; init; }

    /// <summary>
    /// Where compiled programs are cached; null means HPCCNN_OPENCL_CACHE, else
    /// $XDG_CACHE_HOME/hpccnn/opencl, else ~/.cache/hpccnn/opencl.
    /// </summary>
    public string? ProgramCacheDirectory { get; init; }

    /// <summary>The kernel shapes; Auto picks by device type. Forcing one is for profiling and tests.</summary>
    public OpenClKernelStyle KernelStyle { get; init; }

    /// <summary>False turns the disk cache off (programs are still built once per process and device).</summary>
    public bool UseProgramCache { get; init; } = true;
}

/// <summary>
/// The OpenCL backend: the same operations as the CPU backend, as OpenCL C kernels on any OpenCL
/// 1.2 device. Data stays on the device in <see cref="OpenClTensor"/>s; the plans' span overloads
/// and <see cref="Backend.Eltwise(Activation, ReadOnlySpan{float}, Span{float}, float)"/> on spans copy
/// to the device and back and wait, for convenience. Dispose the backend when done: its context
/// and queue are released once it and every plan and tensor made from it are disposed.
/// </summary>
/// <example>
/// <code>
/// using var gpu = new OpenClBackend();
/// using var plan = gpu.CreateConvPlan(problem, weights, bias);
/// using var x = gpu.Upload(input);
/// using var y = gpu.CreateTensor(problem.OutputLength);
/// plan.Run(x, y);          // queued, no wait
/// y.Download(output);      // waits for the result
/// </code>
/// </example>
public sealed class OpenClBackend : Backend
{
    private readonly OpenClDevice device;
    private readonly OpenClKernelStyle style;
    private readonly Lazy<OpenClTraining> training;
    private int disposed;

    /// <summary>Opens the selected device (default: the first GPU, else the first device).</summary>
    /// <exception cref="OpenClUnavailableException">No OpenCL loader, no platform, or no device matches the selection.</exception>
    public OpenClBackend(OpenClBackendOptions? options = null)
    {
        options ??= new OpenClBackendOptions();
        var devices = OpenClPlatforms.Enumerate();
        var (id, info) = Select(devices.Select(d => (d.Id, d.Info)).ToList(), options);
        if (!Enum.IsDefined(options.KernelStyle))
            throw new ArgumentOutOfRangeException(nameof(options), options.KernelStyle, "unknown kernel style");
        style = options.KernelStyle;
        bool gpuStyle = style == OpenClKernelStyle.Gpu || (style == OpenClKernelStyle.Auto && info.IsGpu);
        device = new OpenClDevice(id, info, gpuStyle,
            options.UseProgramCache ? options.ProgramCacheDirectory ?? ProgramCache.DefaultDirectory() : null);
        training = new Lazy<OpenClTraining>(() => new OpenClTraining(device));
    }

    public override string Name => "opencl";

    /// <summary>The device this backend runs on.</summary>
    public OpenClDeviceInfo Device => device.Info;

    /// <summary>Floats per work-item vector (16 in the Cpu kernel style, 4 in the Gpu style).</summary>
    public int VectorWidth => device.VectorWidth;

    /// <summary>The program cache folder, or null when the disk cache is off.</summary>
    public string? ProgramCacheDirectory => device.CacheDirectory;

    internal OpenClDevice DeviceRuntime => device;

    public override string ToString() =>
        style == OpenClKernelStyle.Auto ? $"{Name}[{device.Info.Name}]" : $"{Name}[{device.Info.Name}, {style} kernels]";

    /// <summary>Creates a convolution plan: packs and uploads the weights and builds the kernel program (or loads it from the cache).</summary>
    public new OpenClConvPlan CreateConvPlan(ConvProblem problem, ReadOnlySpan<float> weights = default, ReadOnlySpan<float> bias = default) =>
        (OpenClConvPlan)base.CreateConvPlan(problem, weights, bias);

    /// <summary>Creates a pooling plan and builds its program (or loads it from the cache).</summary>
    public new OpenClPoolPlan CreatePoolPlan(PoolProblem problem) => (OpenClPoolPlan)base.CreatePoolPlan(problem);

    /// <summary>A device tensor of <paramref name="length"/> floats; its contents are undefined until written.</summary>
    public OpenClTensor CreateTensor(long length)
    {
        ThrowIfDisposed();
        return new OpenClTensor(device, length);
    }

    /// <summary>A device tensor holding a copy of <paramref name="values"/>.</summary>
    public new OpenClTensor Upload(ReadOnlySpan<float> values)
    {
        ThrowIfDisposed();
        return new OpenClTensor(device, values.Length, values);
    }

    /// <summary>A device tensor (see <see cref="CreateTensor"/>).</summary>
    public override DeviceBuffer Allocate(long length) => CreateTensor(length);

    /// <summary>Creates an elementwise plan whose runs on tensors stay on the device.</summary>
    public new EltwisePlan CreateEltwisePlan(EltwiseProblem problem) => base.CreateEltwisePlan(problem);

    /// <summary>
    /// Queues output[i] = activation(input[i]) for the first input.Length elements; <paramref name="output"/>
    /// may be <paramref name="input"/> itself. Returns without waiting.
    /// </summary>
    public void Eltwise(Activation activation, OpenClTensor input, OpenClTensor output, float alpha = 0f)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Guard.Eltwise(activation, alpha, [], []);
        Guard.Length(output.Length, input.Length, nameof(output));
        using var plan = CreateEltwisePlan(new EltwiseProblem { Activation = activation, Alpha = alpha, Length = input.Length });
        plan.Forward(input, output);
    }

    /// <summary>Waits until every queued operation has finished.</summary>
    public void Finish()
    {
        ThrowIfDisposed();
        device.Finish();
    }

    private protected override ConvPlan CreateConvPlanCore(ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        ThrowIfDisposed();
        return new OpenClConvPlan(device, problem, weights, bias);
    }

    private protected override DensePlan CreateDensePlanCore(DenseProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        ThrowIfDisposed();
        return new OpenClDensePlan(device, problem, weights, bias);
    }

    private protected override PoolPlan CreatePoolPlanCore(PoolProblem problem)
    {
        ThrowIfDisposed();
        return new OpenClPoolPlan(device, problem);
    }

    private protected override EltwisePlan CreateEltwisePlanCore(EltwiseProblem problem)
    {
        ThrowIfDisposed();
        return new OpenClEltwisePlan(device, problem);
    }

    private protected override SoftmaxPlan CreateSoftmaxPlanCore(SoftmaxProblem problem)
    {
        ThrowIfDisposed();
        return new OpenClSoftmaxPlan(device, problem);
    }

    private OpenClTraining Training
    {
        get
        {
            ThrowIfDisposed();
            return training.Value;
        }
    }

    private protected override void DropoutCore(Training.DropoutMask dropout, long step, ReadOnlySpan<float> input, Span<float> output) =>
        Training.Dropout(dropout, step, input, output);

    private protected override void DropoutCore(Training.DropoutMask dropout, long step, DeviceBuffer input, DeviceBuffer output, long length) =>
        Training.Dropout(dropout, step, input, output, length);

    private protected override void SgdCore(Training.Sgd sgd, Span<float> weights, ReadOnlySpan<float> gradients, Span<float> velocity) =>
        Training.Sgd(sgd, weights, gradients, velocity);

    private protected override void SgdCore(Training.Sgd sgd, DeviceBuffer weights, DeviceBuffer gradients, DeviceBuffer? velocity, long length) =>
        Training.Sgd(sgd, weights, gradients, velocity, length);

    private protected override void AdamCore(Training.Adam adam, long step, Span<float> weights, ReadOnlySpan<float> gradients,
        Span<float> firstMoment, Span<float> secondMoment) => Training.Adam(adam, step, weights, gradients, firstMoment, secondMoment);

    private protected override void AdamCore(Training.Adam adam, long step, DeviceBuffer weights, DeviceBuffer gradients,
        DeviceBuffer firstMoment, DeviceBuffer secondMoment, long length) =>
        Training.Adam(adam, step, weights, gradients, firstMoment, secondMoment, length);

    private static (nint Id, OpenClDeviceInfo Info) Select(IReadOnlyList<(nint Id, OpenClDeviceInfo Info)> devices, OpenClBackendOptions options)
    {
        string Listing() => devices.Count == 0 ? "none" : string.Join("; ", devices.Select(d => $"{d.Info.Index}: {d.Info.Name} ({d.Info.Type})"));
        if (devices.Count == 0) throw new OpenClUnavailableException($"the OpenCL platforms have no devices: {OpenClApi.InstallHint}");
        IEnumerable<(nint Id, OpenClDeviceInfo Info)> candidates = devices;
        if (options.DeviceIndex is { } index)
        {
            if (index < 0 || index >= devices.Count)
                throw new OpenClUnavailableException($"no OpenCL device has index {index}; devices: {Listing()}");
            candidates = [devices[index]];
        }
        if (!string.IsNullOrEmpty(options.DeviceName))
        {
            candidates = candidates.Where(d => d.Info.Name.Contains(options.DeviceName, StringComparison.OrdinalIgnoreCase)).ToList();
            if (!candidates.Any())
                throw new OpenClUnavailableException($"no OpenCL device{(options.DeviceIndex is null ? "" : $" with index {options.DeviceIndex}")} has a name containing '{options.DeviceName}'; devices: {Listing()}");
        }
        var list = candidates.ToList();
        return list.FirstOrDefault(d => d.Info.IsGpu) is { Id: not 0 } gpu ? gpu : list[0];
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed != 0, this);

    /// <summary>Releases the backend's reference to the device; plans and tensors still alive keep it open until they are disposed.</summary>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        if (training.IsValueCreated) training.Value.Dispose();
        device.ReleaseReference();
        base.Dispose();
    }
}

using HpcCnn.Interop;
using HpcCnn.Problems;

namespace HpcCnn.Cpu;

/// <summary>Instruction sets the native kernels are written for, in increasing order.</summary>
public enum CpuIsa
{
    /// <summary>No cap: the best the CPU supports (itself capped by the HPCCNN_MAX_ISA environment variable).</summary>
    Auto,
    /// <summary>Portable C.</summary>
    Generic,
    /// <summary>AVX2 with FMA3.</summary>
    Avx2,
    /// <summary>AVX-512F (with AVX2 and FMA3).</summary>
    Avx512,
}

/// <summary>Options of the native CPU backend.</summary>
public sealed record CpuBackendOptions
{
    /// <summary>Threads one call may use; 0 means the library default (all processors).</summary>
    public int Threads { get; init; }

    /// <summary>The best instruction set plans may use, e.g. <see cref="CpuIsa.Generic"/> to test the portable path.</summary>
    public CpuIsa MaxIsa { get; init; }
}

/// <summary>
/// The native backend: C11 kernels in libhpccnn.so, threaded with OpenMP inside each call,
/// called through P/Invoke with spans pinned for the duration of the call only.
/// </summary>
public sealed unsafe class CpuBackend : Backend
{
    private readonly hc_plan_options options;

    /// <exception cref="DllNotFoundException">libhpccnn.so cannot be loaded; the message lists every path tried and why it failed.</exception>
    public CpuBackend(CpuBackendOptions? options = null)
    {
        options ??= new CpuBackendOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Threads, nameof(options.Threads));
        if (!Enum.IsDefined(options.MaxIsa))
            throw new ArgumentOutOfRangeException(nameof(options.MaxIsa), options.MaxIsa, "unknown instruction set");
        NativeLibraryLoader.EnsureLoaded();
        this.options = new hc_plan_options
        {
            num_threads = options.Threads,
            max_isa = options.MaxIsa switch
            {
                CpuIsa.Generic => hc_isa.HC_ISA_GENERIC,
                CpuIsa.Avx2 => hc_isa.HC_ISA_AVX2,
                CpuIsa.Avx512 => hc_isa.HC_ISA_AVX512,
                _ => hc_isa.HC_ISA_AUTO,
            },
        };
        MaxIsa = options.MaxIsa;
        Threads = options.Threads > 0 ? options.Threads : NativeLibraryInfo.DefaultThreads;
    }

    public override string Name => "cpu";

    /// <summary>Threads each call uses.</summary>
    public int Threads { get; }

    /// <summary>The instruction-set cap this backend's plans were asked for.</summary>
    public CpuIsa MaxIsa { get; }

    public override string ToString() => MaxIsa == CpuIsa.Auto ? Name : $"{Name}[{MaxIsa.ToString().ToLowerInvariant()}]";

    private protected override ConvPlan CreateConvPlanCore(ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        var desc = NativeDescriptors.Conv(problem);
        var planOptions = options;
        hc_conv2d_handle handle;
        fixed (float* w = weights)
        fixed (float* b = bias)
        {
            var status = NativeMethods.hc_conv2d_create(&desc, w, weights.Length, b, bias.Length, &planOptions, out handle);
            if (status != hc_status.HC_STATUS_OK)
            {
                handle.Dispose();
                NativeStatus.Check(status, nameof(NativeMethods.hc_conv2d_create));
            }
        }
        return new CpuConvPlan(problem, handle);
    }

    private protected override PoolPlan CreatePoolPlanCore(PoolProblem problem)
    {
        var desc = NativeDescriptors.Pool(problem);
        var planOptions = options;
        var status = NativeMethods.hc_pool2d_create(&desc, &planOptions, out var handle);
        if (status != hc_status.HC_STATUS_OK)
        {
            handle.Dispose();
            NativeStatus.Check(status, nameof(NativeMethods.hc_pool2d_create));
        }
        return new CpuPoolPlan(problem, handle);
    }

    private protected override void EltwiseCore(EltwiseOp op, float alpha, ReadOnlySpan<float> input, Span<float> output)
    {
        var planOptions = options;
        fixed (float* x = input)
        fixed (float* y = output)
        {
            NativeStatus.Check(
                NativeMethods.hc_eltwise_forward(NativeDescriptors.Eltwise(op), alpha, x, input.Length, y, output.Length, &planOptions),
                nameof(NativeMethods.hc_eltwise_forward));
        }
    }

    private sealed class CpuConvPlan(ConvProblem problem, hc_conv2d_handle handle) : ConvPlan(problem)
    {
        private readonly (string Algorithm, string Isa) info = ReadInfo(handle);

        public override string Algorithm => info.Algorithm;
        public override string Isa => info.Isa;

        private static (string, string) ReadInfo(hc_conv2d_handle handle)
        {
            hc_plan_info native;
            NativeStatus.Check(NativeMethods.hc_conv2d_get_info(handle, &native), nameof(NativeMethods.hc_conv2d_get_info));
            return (NativeStatus.Utf8(native.algorithm), NativeStatus.Utf8(native.isa));
        }

        private protected override void RunCore(ReadOnlySpan<float> input, Span<float> output)
        {
            fixed (float* x = input)
            fixed (float* y = output)
            {
                NativeStatus.Check(NativeMethods.hc_conv2d_run(handle, x, input.Length, y, output.Length), nameof(NativeMethods.hc_conv2d_run));
            }
        }

        private protected override void ReleaseResources() => handle.Dispose();
    }

    private sealed class CpuPoolPlan(PoolProblem problem, hc_pool2d_handle handle) : PoolPlan(problem)
    {
        private readonly (string Algorithm, string Isa) info = ReadInfo(handle);

        public override string Algorithm => info.Algorithm;
        public override string Isa => info.Isa;

        private static (string, string) ReadInfo(hc_pool2d_handle handle)
        {
            hc_plan_info native;
            NativeStatus.Check(NativeMethods.hc_pool2d_get_info(handle, &native), nameof(NativeMethods.hc_pool2d_get_info));
            return (NativeStatus.Utf8(native.algorithm), NativeStatus.Utf8(native.isa));
        }

        private protected override void RunCore(ReadOnlySpan<float> input, Span<float> output)
        {
            fixed (float* x = input)
            fixed (float* y = output)
            {
                NativeStatus.Check(NativeMethods.hc_pool2d_run(handle, x, input.Length, y, output.Length), nameof(NativeMethods.hc_pool2d_run));
            }
        }

        private protected override void ReleaseResources() => handle.Dispose();
    }
}

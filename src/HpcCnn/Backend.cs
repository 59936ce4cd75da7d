using System.Diagnostics;
using HpcCnn.Cpu;
using HpcCnn.OpenCl;
using HpcCnn.Problems;
using HpcCnn.Reference;

namespace HpcCnn;

/// <summary>
/// Where operations run. Every backend offers the same operations on the same data layout and is
/// tested against <see cref="Reference"/>, the managed oracle. Dispose a backend when done (the
/// OpenCL backend holds a device context; the others hold nothing, and Dispose does nothing).
/// </summary>
/// <example>
/// <code>
/// using var cpu = new CpuBackend();
/// var problem = ConvProblem.Parse("mb1ic3ih32oc16kh3ph1");
/// using var plan = cpu.CreateConvPlan(problem, weights, bias);
/// plan.Forward(input, output);
/// </code>
/// </example>
public abstract partial class Backend : IDisposable
{
    /// <summary>The managed oracle: straight loops from the definitions, double accumulation.</summary>
    public static Backend Reference { get; } = new ReferenceBackend();

    /// <summary>Short lower-case name: reference, cpu, opencl.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Creates a convolution plan for <see cref="Problem.Direction"/>. Forward and backward-data plans
    /// use the weights (KCRS, copied) and bias (empty: none); both may be left empty and given later
    /// with <see cref="LayerPlan{TProblem}.SetWeights(ReadOnlySpan{float}, ReadOnlySpan{float})"/>. Backward-weights plans take none.
    /// </summary>
    /// <exception cref="ArgumentException">The problem is invalid or a span is too short; the message names the parameter and the rule.</exception>
    public ConvPlan CreateConvPlan(ConvProblem problem, ReadOnlySpan<float> weights = default, ReadOnlySpan<float> bias = default)
    {
        var started = Stopwatch.GetTimestamp();
        Guard.LayerParameters(problem, weights, bias);
        return HpcCnnEventSource.Log.Created(this, CreateConvPlanCore(problem, weights.IsEmpty ? weights : weights[..checked((int)problem.WeightsLength)],
            bias.IsEmpty ? bias : bias[..problem.BiasLength]), started);
    }

    /// <summary>
    /// Creates a dense-layer plan for <see cref="Problem.Direction"/>; weights (out × in) and bias as for
    /// <see cref="CreateConvPlan"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The problem is invalid or a span is too short.</exception>
    public DensePlan CreateDensePlan(DenseProblem problem, ReadOnlySpan<float> weights = default, ReadOnlySpan<float> bias = default)
    {
        var started = Stopwatch.GetTimestamp();
        Guard.LayerParameters(problem, weights, bias);
        return HpcCnnEventSource.Log.Created(this, CreateDensePlanCore(problem, weights.IsEmpty ? weights : weights[..checked((int)problem.WeightsLength)],
            bias.IsEmpty ? bias : bias[..problem.BiasLength]), started);
    }

    /// <summary>Creates a pooling plan for <see cref="Problem.Direction"/>.</summary>
    /// <exception cref="ArgumentException">The problem is invalid; the message names the property and the rule.</exception>
    public PoolPlan CreatePoolPlan(PoolProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var started = Stopwatch.GetTimestamp();
        problem.Validate();
        return HpcCnnEventSource.Log.Created(this, CreatePoolPlanCore(problem), started);
    }

    /// <summary>Creates an elementwise plan for <see cref="Problem.Direction"/>.</summary>
    /// <exception cref="ArgumentException">The problem is invalid.</exception>
    public EltwisePlan CreateEltwisePlan(EltwiseProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var started = Stopwatch.GetTimestamp();
        problem.Validate();
        return HpcCnnEventSource.Log.Created(this, CreateEltwisePlanCore(problem), started);
    }

    /// <summary>Creates a softmax cross-entropy plan for <see cref="Problem.Direction"/>.</summary>
    /// <exception cref="ArgumentException">The problem is invalid.</exception>
    public SoftmaxPlan CreateSoftmaxPlan(SoftmaxProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var started = Stopwatch.GetTimestamp();
        problem.Validate();
        return HpcCnnEventSource.Log.Created(this, CreateSoftmaxPlanCore(problem), started);
    }

    /// <summary>
    /// output[i] = activation(input[i]) for every element of <paramref name="input"/>: a convenience
    /// that makes a plan per call. <paramref name="output"/> may be <paramref name="input"/> itself
    /// (in place) but must not overlap it otherwise. <paramref name="alpha"/> is the LeakyReLU slope.
    /// </summary>
    public void Eltwise(Activation activation, ReadOnlySpan<float> input, Span<float> output, float alpha = 0f)
    {
        Guard.Eltwise(activation, alpha, input, output);
        using var plan = CreateEltwisePlan(new EltwiseProblem { Activation = activation, Alpha = alpha, Length = input.Length });
        plan.Forward(input, output[..input.Length]);
    }

    /// <summary>A buffer of <paramref name="length"/> floats where this backend computes; contents undefined until written.</summary>
    public virtual DeviceBuffer Allocate(long length) => new HostBuffer(this, length);

    /// <summary>A buffer holding a copy of <paramref name="values"/>.</summary>
    public DeviceBuffer Upload(ReadOnlySpan<float> values)
    {
        var buffer = Allocate(values.Length);
        buffer.Upload(values);
        return buffer;
    }

    private protected abstract ConvPlan CreateConvPlanCore(ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias);
    private protected abstract DensePlan CreateDensePlanCore(DenseProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias);
    private protected abstract PoolPlan CreatePoolPlanCore(PoolProblem problem);
    private protected abstract EltwisePlan CreateEltwisePlanCore(EltwiseProblem problem);
    private protected abstract SoftmaxPlan CreateSoftmaxPlanCore(SoftmaxProblem problem);

    /// <summary>
    /// Every backend this machine can run, with the reason for each one it cannot
    /// (e.g. libhpccnn.so failed to load, no OpenCL platform). The OpenCL backend runs on the
    /// default device; dispose the backends when done.
    /// </summary>
    public static (IReadOnlyList<Backend> Available, IReadOnlyList<string> Unavailable) Discover(int threads = 0)
    {
        var available = new List<Backend> { Reference };
        var unavailable = new List<string>();
        try
        {
            available.Add(new CpuBackend(new CpuBackendOptions { Threads = threads }));
            // Every slower path too, where the CPU picks something faster, so each one is checked.
            if (NativeLibraryInfo.BestIsa == "avx512")
                available.Add(new CpuBackend(new CpuBackendOptions { Threads = threads, MaxIsa = CpuIsa.Avx2 }));
            if (NativeLibraryInfo.BestIsa != "generic")
                available.Add(new CpuBackend(new CpuBackendOptions { Threads = threads, MaxIsa = CpuIsa.Generic }));
        }
        catch (DllNotFoundException e)
        {
            unavailable.Add($"cpu: {e.Message}");
        }
        try
        {
            available.Add(new OpenClBackend());
        }
        catch (OpenClUnavailableException e)
        {
            unavailable.Add($"opencl: {e.Message}");
        }
        return (available, unavailable);
    }

    /// <summary>Releases what the backend holds; idempotent.</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);

    public override string ToString() => Name;
}

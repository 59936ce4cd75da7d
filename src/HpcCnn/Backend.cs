using HpcCnn.Cpu;
using HpcCnn.OpenCl;
using HpcCnn.Problems;
using HpcCnn.Reference;

namespace HpcCnn;

/// <summary>
/// Where operations run. Every backend offers the same operations on the same data layout and is
/// tested against <see cref="Reference"/>, the managed oracle.
/// </summary>
/// <example>
/// <code>
/// using var cpu = new CpuBackend();
/// var problem = ConvProblem.Parse("mb1ic3ih32oc16kh3ph1");
/// using var plan = cpu.CreateConvPlan(problem, weights, bias);
/// plan.Run(input, output);
/// </code>
/// </example>
public abstract class Backend
{
    /// <summary>The managed oracle: straight loops from the definitions, double accumulation.</summary>
    public static Backend Reference { get; } = new ReferenceBackend();

    /// <summary>Short lower-case name: reference, cpu, opencl.</summary>
    public abstract string Name { get; }

    /// <summary>Creates a convolution plan. The weights (KCRS) and bias are copied; an empty bias means none.</summary>
    /// <exception cref="ArgumentException">The problem is invalid or a span is too short; the message names the parameter and the rule.</exception>
    public ConvPlan CreateConvPlan(ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias = default)
    {
        Guard.ConvParameters(problem, weights, bias);
        return CreateConvPlanCore(problem, weights[..checked((int)problem.WeightsLength)], bias.IsEmpty ? bias : bias[..problem.BiasLength]);
    }

    /// <summary>Creates a pooling plan.</summary>
    /// <exception cref="ArgumentException">The problem is invalid; the message names the property and the rule.</exception>
    public PoolPlan CreatePoolPlan(PoolProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        problem.Validate();
        return CreatePoolPlanCore(problem);
    }

    /// <summary>
    /// output[i] = op(input[i]) for every element of <paramref name="input"/>. <paramref name="output"/>
    /// may be <paramref name="input"/> itself (in place) but must not overlap it otherwise.
    /// <paramref name="alpha"/> is the LeakyReLU slope.
    /// </summary>
    public void Eltwise(EltwiseOp op, ReadOnlySpan<float> input, Span<float> output, float alpha = 0f)
    {
        Guard.Eltwise(op, alpha, input, output);
        EltwiseCore(op, alpha, input, output[..input.Length]);
    }

    private protected abstract ConvPlan CreateConvPlanCore(ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias);
    private protected abstract PoolPlan CreatePoolPlanCore(PoolProblem problem);
    private protected abstract void EltwiseCore(EltwiseOp op, float alpha, ReadOnlySpan<float> input, Span<float> output);

    /// <summary>
    /// Every backend this machine can run, with the reason for each one it cannot
    /// (e.g. libhpccnn.so failed to load, no OpenCL platform). The OpenCL backend runs on the
    /// default device; dispose it when done.
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

    public override string ToString() => Name;
}

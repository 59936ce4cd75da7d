using HpcCnn.Problems;
using HpcCnn.Verification;

namespace HpcCnn;

/// <summary>
/// One entry per operation, the one place that says how its problems are read (benchdnn's
/// driver and options), which directions it has, how much work a problem is, how it is checked
/// against the oracle, and how it is prepared for timing. The command line, the tests and the
/// benchmarks iterate over <see cref="All"/> and dispatch through <see cref="Problem.Operation"/>
/// instead of switching on problem types.
/// </summary>
public abstract class Operation
{
    public static Operation Conv { get; } = new ConvOperation();
    public static Operation Pool { get; } = new PoolOperation();
    public static Operation Dense { get; } = new DenseOperation();
    public static Operation Eltwise { get; } = new EltwiseOperation();
    public static Operation Softmax { get; } = new SoftmaxOperation();

    /// <summary>Every operation, in the order suites and tables list them.</summary>
    public static IReadOnlyList<Operation> All { get; } = [Conv, Pool, Dense, Eltwise, Softmax];

    /// <summary>benchdnn's driver name: a suite's <c>--conv</c>, <c>--pool</c>, <c>--ip</c>, <c>--eltwise</c>, <c>--softmax</c>.</summary>
    public abstract string Driver { get; }

    /// <summary>The directions a plan of this operation can take.</summary>
    public abstract IReadOnlyList<Direction> Directions { get; }

    /// <summary>The suite options that apply to this operation's problems (besides --dir, --mb and --match, which apply to all).</summary>
    internal abstract IReadOnlyList<string> Options { get; }

    /// <summary>Reads one descriptor under the options in force.</summary>
    /// <exception cref="FormatException">The descriptor is malformed.</exception>
    internal abstract Problem Parse(string descriptor, IReadOnlyDictionary<string, string> options);

    /// <summary>Nominal FLOPs of one run in the problem's direction; 0 for memory-bound operations.</summary>
    public abstract double Flops(Problem problem);

    /// <summary>Bytes one run in the problem's direction reads and writes, at least (for a GB/s figure).</summary>
    public abstract double Bytes(Problem problem);

    /// <summary>
    /// Runs the problem in its direction on every backend against one oracle run: the same seeded
    /// data for all, integer fills compared bit for bit where the computation is exact, real fills
    /// by the tolerance rule; one result per backend and output.
    /// </summary>
    public abstract IReadOnlyList<CheckResult> Check(IReadOnlyList<Backend> backends, Problem problem, FillKind fill, int seed, Tolerance tolerance);

    /// <summary>
    /// Every output of one run of the problem on seeded data, concatenated in role order (for the
    /// tests that compare a backend with itself: thread counts, concurrent calls).
    /// </summary>
    internal abstract float[] Run(Backend backend, Problem problem, FillKind fill, int seed);

    /// <summary>A plan and seeded data for timing one run of the problem on a backend.</summary>
    public abstract PreparedRun Prepare(Backend backend, Problem problem, int seed);

    /// <summary>The operation whose driver is <paramref name="driver"/>, or null.</summary>
    public static Operation? ByDriver(string driver) => All.FirstOrDefault(o => o.Driver == driver);

    public override string ToString() => Driver;

    /// <summary>The problem as this operation's type, validated.</summary>
    private protected static T Validated<T>(Problem problem) where T : Problem
    {
        ArgumentNullException.ThrowIfNull(problem);
        var typed = problem as T ?? throw new ArgumentException($"{problem} is not a {typeof(T).Name}", nameof(problem));
        typed.Validate();
        return typed;
    }
}

/// <summary>
/// One run prepared for timing: <see cref="Run"/> takes host spans (and copies to and from a device
/// backend); <see cref="RunResident"/>, where the backend keeps data on a device, runs on device
/// buffers and waits for the result. Disposing releases the plan and the buffers.
/// </summary>
public sealed class PreparedRun(Plan plan, Action run, Action? runResident, IDisposable? resources = null) : IDisposable
{
    public Action Run { get; } = run;
    public Action? RunResident { get; } = runResident;
    public string Algorithm => plan.Algorithm;
    public string Isa => plan.Isa;

    public void Dispose()
    {
        resources?.Dispose();
        plan.Dispose();
    }
}

/// <summary>Several disposables released together.</summary>
internal sealed class Disposables(params IDisposable?[] items) : IDisposable
{
    public void Dispose()
    {
        foreach (var item in items) item?.Dispose();
    }
}

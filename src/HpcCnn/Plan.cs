using HpcCnn.Problems;

namespace HpcCnn;

/// <summary>
/// A problem prepared for repeated runs: created once (validation, algorithm choice, weight
/// packing), then run many times on spans without allocating. A plan is immutable and may be run
/// from several threads at once on different buffers. <see cref="Dispose"/> is idempotent; running
/// a disposed plan throws <see cref="ObjectDisposedException"/>.
/// </summary>
public abstract class Plan<TProblem> : IDisposable where TProblem : Problem
{
    private volatile bool disposed;

    private protected Plan(TProblem problem) => Problem = problem;

    public TProblem Problem { get; }

    /// <summary>The algorithm the backend chose, e.g. <c>direct_generic</c>.</summary>
    public abstract string Algorithm { get; }

    /// <summary>The instruction set the algorithm runs on, e.g. <c>generic</c> or <c>managed</c>.</summary>
    public abstract string Isa { get; }

    public bool IsDisposed => disposed;

    /// <summary>Runs the plan: NCHW <paramref name="input"/> to NCHW <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">A span is shorter than the problem needs, or the spans overlap.</exception>
    /// <exception cref="ObjectDisposedException">The plan was disposed.</exception>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Guard.Length(input.Length, Problem.InputLength, nameof(input));
        Guard.Length(output.Length, Problem.OutputLength, nameof(output));
        Guard.NoOverlap(input, output);
        RunCore(input, output);
    }

    /// <summary>Runs on spans already checked against the problem.</summary>
    private protected abstract void RunCore(ReadOnlySpan<float> input, Span<float> output);

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        ReleaseResources();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the plan owns; called once.</summary>
    private protected virtual void ReleaseResources() { }

    public override string ToString() => $"{Problem} [{Algorithm}, {Isa}]";
}

/// <summary>A forward convolution plan.</summary>
public abstract class ConvPlan : Plan<ConvProblem>
{
    private protected ConvPlan(ConvProblem problem) : base(problem) { }
}

/// <summary>A forward pooling plan.</summary>
public abstract class PoolPlan : Plan<PoolProblem>
{
    private protected PoolPlan(PoolProblem problem) : base(problem) { }
}

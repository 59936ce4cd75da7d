using HpcCnn.Problems;

namespace HpcCnn;

/// <summary>
/// A problem prepared for repeated runs in one direction: created once (validation, algorithm
/// choice, weight packing), then run many times on spans without allocating. A plan may be run
/// from several threads at once on different buffers; changing its weights must not overlap a run.
/// <see cref="Dispose"/> is idempotent; running a disposed plan throws <see cref="ObjectDisposedException"/>.
/// </summary>
public abstract class Plan : IDisposable
{
    private volatile bool disposed;

    private protected Plan(Problem problem) => ProblemBase = problem;

    private protected Problem ProblemBase { get; }

    /// <summary>What the plan computes.</summary>
    public Direction Direction => ProblemBase.Direction;

    /// <summary>The algorithm the backend chose, e.g. <c>direct_generic</c>.</summary>
    public abstract string Algorithm { get; }

    /// <summary>The instruction set the algorithm runs on, e.g. <c>generic</c>, <c>managed</c> or <c>opencl</c>.</summary>
    public abstract string Isa { get; }

    public bool IsDisposed => disposed;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        ReleaseResources();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the plan owns; called once.</summary>
    private protected virtual void ReleaseResources() { }

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    /// <summary>Fails unless the plan was made for one of <paramref name="directions"/>.</summary>
    /// <summary>Fails unless the plan's direction is one of <paramref name="directions"/> (a span: no allocation per run).</summary>
    private protected void RequireDirection(string method, params ReadOnlySpan<Direction> directions)
    {
        ThrowIfDisposed();
        if (!directions.Contains(Direction))
            throw new InvalidOperationException(
                $"{method} runs on a {string.Join(" or ", directions.ToArray().Select(DirectionText.Name))} plan; this plan is {DirectionText.Name(Direction)} ({ProblemBase})");
    }

    public override string ToString() => $"{ProblemBase} [{Algorithm}, {Isa}]";
}

/// <summary>A plan for a problem of type <typeparamref name="TProblem"/>.</summary>
public abstract class Plan<TProblem> : Plan where TProblem : Problem
{
    private protected Plan(TProblem problem) : base(problem) { }

    public TProblem Problem => (TProblem)ProblemBase;
}

/// <summary>Argument checks of plan calls: lengths by role, outputs that overlap nothing else.</summary>
internal static class Arguments
{
    public static void Length(ReadOnlySpan<float> span, long required, string parameter) => Guard.Length(span.Length, required, parameter);

    public static void Length(ReadOnlySpan<int> span, long required, string parameter) => Guard.Length(span.Length, required, parameter);

    /// <summary>The output overlaps none of the other buffers of the call.</summary>
    public static void Disjoint(ReadOnlySpan<float> output, string outputName, ReadOnlySpan<float> other, string otherName)
    {
        if (!output.IsEmpty && !other.IsEmpty && output.Overlaps(other))
            throw new ArgumentException($"{outputName} must not overlap {otherName}", outputName);
    }
}

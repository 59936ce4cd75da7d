using HpcCnn.Problems;

namespace HpcCnn;

/// <summary>
/// An elementwise activation plan: forward y = f(x) (y may be x itself, in place) or backward
/// dx = f'(from y)·dy (dx may be dy itself).
/// </summary>
public abstract class EltwisePlan : Plan<EltwiseProblem>
{
    private protected EltwisePlan(EltwiseProblem problem) : base(problem) { }

    /// <summary>y = f(x); <paramref name="output"/> may be <paramref name="input"/> itself but must not overlap it otherwise.</summary>
    public void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        RequireDirection(nameof(Forward), Direction.ForwardInference, Direction.ForwardTraining);
        Arguments.Length(input, Problem.Length, nameof(input));
        Arguments.Length(output, Problem.Length, nameof(output));
        int n = (int)Problem.Length;
        InPlaceOrDisjoint(output[..n], nameof(output), input[..n]);
        ForwardCore(input[..n], output[..n]);
    }

    /// <summary>Forward on buffers of the plan's backend; <paramref name="output"/> may be <paramref name="input"/>.</summary>
    public void Forward(DeviceBuffer input, DeviceBuffer output)
    {
        RequireDirection(nameof(Forward), Direction.ForwardInference, Direction.ForwardTraining);
        Buffers.Check(input, Problem.Length, nameof(input));
        Buffers.Check(output, Problem.Length, nameof(output));
        ForwardCore(input, output);
    }

    /// <summary>dx = f'(from y)·dy, y being the forward output; <paramref name="diffInput"/> may be <paramref name="diffOutput"/> itself.</summary>
    public void Backward(ReadOnlySpan<float> output, ReadOnlySpan<float> diffOutput, Span<float> diffInput)
    {
        RequireDirection(nameof(Backward), Direction.BackwardData);
        Arguments.Length(output, Problem.Length, nameof(output));
        Arguments.Length(diffOutput, Problem.Length, nameof(diffOutput));
        Arguments.Length(diffInput, Problem.Length, nameof(diffInput));
        int n = (int)Problem.Length;
        InPlaceOrDisjoint(diffInput[..n], nameof(diffInput), diffOutput[..n]);
        Arguments.Disjoint(diffInput[..n], nameof(diffInput), output[..n], nameof(output));
        BackwardCore(output[..n], diffOutput[..n], diffInput[..n]);
    }

    /// <summary>Backward on buffers of the plan's backend; <paramref name="diffInput"/> may be <paramref name="diffOutput"/>.</summary>
    public void Backward(DeviceBuffer output, DeviceBuffer diffOutput, DeviceBuffer diffInput)
    {
        RequireDirection(nameof(Backward), Direction.BackwardData);
        Buffers.Check(output, Problem.Length, nameof(output));
        Buffers.Check(diffOutput, Problem.Length, nameof(diffOutput));
        Buffers.Check(diffInput, Problem.Length, nameof(diffInput));
        Buffers.Distinct(diffInput, nameof(diffInput), output);
        BackwardCore(output, diffOutput, diffInput);
    }

    private protected abstract void ForwardCore(ReadOnlySpan<float> input, Span<float> output);
    private protected abstract void BackwardCore(ReadOnlySpan<float> output, ReadOnlySpan<float> diffOutput, Span<float> diffInput);

    private protected virtual void ForwardCore(DeviceBuffer input, DeviceBuffer output) => ForwardCore(Buffers.Host(input), Buffers.Host(output));

    private protected virtual void BackwardCore(DeviceBuffer output, DeviceBuffer diffOutput, DeviceBuffer diffInput) =>
        BackwardCore(Buffers.Host(output), Buffers.Host(diffOutput), Buffers.Host(diffInput));

    private static void InPlaceOrDisjoint(Span<float> output, string name, ReadOnlySpan<float> input)
    {
        if (input.Overlaps(output, out int offset) && offset != 0)
            throw new ArgumentException($"{name} must be the same span as its input or not overlap it", name);
    }
}

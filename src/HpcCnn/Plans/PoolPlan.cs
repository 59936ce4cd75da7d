using HpcCnn.Problems;

namespace HpcCnn;

/// <summary>
/// A pooling plan for one direction: forward inference (y from x), forward training (y from x
/// and, for max pooling, each window's argmax in the workspace), or backward data (dL/dx from
/// dL/dy and, for max pooling, that workspace).
/// </summary>
public abstract class PoolPlan : Plan<PoolProblem>
{
    private protected PoolPlan(PoolProblem problem) : base(problem) { }

    /// <summary>Elements of the int32 workspace this plan writes or reads: the output length for max pooling in training, else 0.</summary>
    public long WorkspaceLength => Problem.WorkspaceLength;

    /// <summary>Forward: y from x. A max-pooling FWD_D plan needs the workspace overload.</summary>
    public void Forward(ReadOnlySpan<float> input, Span<float> output) => Forward(input, output, default);

    /// <summary>The same as <see cref="Forward(ReadOnlySpan{float}, Span{float})"/>.</summary>
    public void Run(ReadOnlySpan<float> input, Span<float> output) => Forward(input, output);

    /// <summary>Forward, writing each window's argmax (index within its input plane) when <see cref="WorkspaceLength"/> is not 0.</summary>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, Span<int> workspace)
    {
        RequireDirection(nameof(Forward), Direction.ForwardInference, Direction.ForwardTraining);
        Arguments.Length(input, Problem.InputLength, nameof(input));
        Arguments.Length(output, Problem.OutputLength, nameof(output));
        RequireWorkspace(workspace.Length);
        Arguments.Disjoint(output, nameof(output), input, nameof(input));
        ForwardCore(input[..(int)Problem.InputLength], output[..(int)Problem.OutputLength], workspace[..(int)WorkspaceLength]);
    }

    /// <summary>Forward on buffers of the plan's backend; <paramref name="workspace"/> holds int32 argmaxes.</summary>
    public void Forward(DeviceBuffer input, DeviceBuffer output, DeviceBuffer? workspace = null)
    {
        RequireDirection(nameof(Forward), Direction.ForwardInference, Direction.ForwardTraining);
        Buffers.Check(input, Problem.InputLength, nameof(input));
        Buffers.Check(output, Problem.OutputLength, nameof(output));
        RequireWorkspace(workspace?.Length ?? 0);
        Buffers.Distinct(output, nameof(output), input, workspace);
        ForwardCore(input, output, WorkspaceLength > 0 ? workspace : null);
    }

    /// <summary>dL/dx from dL/dy (and the forward pass's workspace for max pooling).</summary>
    public void Backward(ReadOnlySpan<float> diffOutput, Span<float> diffInput, ReadOnlySpan<int> workspace = default)
    {
        RequireDirection(nameof(Backward), Direction.BackwardData);
        Arguments.Length(diffOutput, Problem.OutputLength, nameof(diffOutput));
        Arguments.Length(diffInput, Problem.InputLength, nameof(diffInput));
        RequireWorkspace(workspace.Length);
        Arguments.Disjoint(diffInput, nameof(diffInput), diffOutput, nameof(diffOutput));
        BackwardCore(diffOutput[..(int)Problem.OutputLength], workspace[..(int)WorkspaceLength], diffInput[..(int)Problem.InputLength]);
    }

    /// <summary>Backward on buffers of the plan's backend.</summary>
    public void Backward(DeviceBuffer diffOutput, DeviceBuffer diffInput, DeviceBuffer? workspace = null)
    {
        RequireDirection(nameof(Backward), Direction.BackwardData);
        Buffers.Check(diffOutput, Problem.OutputLength, nameof(diffOutput));
        Buffers.Check(diffInput, Problem.InputLength, nameof(diffInput));
        RequireWorkspace(workspace?.Length ?? 0);
        Buffers.Distinct(diffInput, nameof(diffInput), diffOutput, workspace);
        BackwardCore(diffOutput, WorkspaceLength > 0 ? workspace : null, diffInput);
    }

    private protected abstract void ForwardCore(ReadOnlySpan<float> input, Span<float> output, Span<int> workspace);
    private protected abstract void BackwardCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<int> workspace, Span<float> diffInput);

    private protected virtual void ForwardCore(DeviceBuffer input, DeviceBuffer output, DeviceBuffer? workspace) =>
        ForwardCore(Buffers.Host(input), Buffers.Host(output), workspace is null ? default : Buffers.HostInts(workspace)[..(int)WorkspaceLength]);

    private protected virtual void BackwardCore(DeviceBuffer diffOutput, DeviceBuffer? workspace, DeviceBuffer diffInput) =>
        BackwardCore(Buffers.Host(diffOutput), workspace is null ? default : Buffers.HostInts(workspace)[..(int)WorkspaceLength], Buffers.Host(diffInput));

    private void RequireWorkspace(long length)
    {
        if (WorkspaceLength > 0) Guard.Length(length, WorkspaceLength, "workspace");
    }
}

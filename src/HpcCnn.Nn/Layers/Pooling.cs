using HpcCnn.Problems;

namespace HpcCnn.Nn;

/// <summary>Pooling over windows of each channel: max, average, or the global average.</summary>
public abstract class PoolingLayer : Layer
{
    private protected PoolingLayer(string? name) : base(name) { }

    internal override string NamePrefix => "pool";

    internal abstract PoolProblem Problem(TensorShape input, int batch, Direction direction);

    public override TensorShape OutputShape(TensorShape input)
    {
        var problem = Problem(input, 1, Direction.ForwardInference);
        Require(problem, input);
        return new TensorShape(input.Channels, (int)problem.OutHeight, (int)problem.OutWidth);
    }

    internal override LayerStep CreateStep(StepContext context) => new PoolStep(context, d => Problem(context.InputShape, context.Batch, d));
}

/// <summary>Max pooling (PyTorch's <c>nn.MaxPool2d</c>); training keeps each window's argmax for the backward pass.</summary>
/// <param name="kernel">Window size.</param>
/// <param name="stride">Stride (default: the window size).</param>
/// <param name="padding">Padding on every side (padded elements never win).</param>
/// <param name="name">The layer's name (default: pool1, pool2, ...).</param>
public sealed class MaxPool2d(int kernel, int? stride = null, int padding = 0, string? name = null) : PoolingLayer(name)
{
    public int Kernel { get; } = kernel;
    public int Stride { get; } = stride ?? kernel;
    public int Padding { get; } = padding;

    internal override PoolProblem Problem(TensorShape input, int batch, Direction direction) =>
        Pools.Window(PoolAlgorithm.Max, input, batch, direction, Kernel, Stride, Padding);

    public override string Describe(TensorShape input) => Pools.Describe("max pool", Kernel, Stride, Padding);
}

/// <summary>
/// Average pooling (PyTorch's <c>nn.AvgPool2d</c>); with <paramref name="countIncludePad"/>
/// (PyTorch's default) padded elements count as zeros in the divisor.
/// </summary>
public sealed class AvgPool2d(int kernel, int? stride = null, int padding = 0, bool countIncludePad = true, string? name = null) : PoolingLayer(name)
{
    public int Kernel { get; } = kernel;
    public int Stride { get; } = stride ?? kernel;
    public int Padding { get; } = padding;
    public bool CountIncludePad { get; } = countIncludePad;

    internal override PoolProblem Problem(TensorShape input, int batch, Direction direction) =>
        Pools.Window(CountIncludePad ? PoolAlgorithm.AverageIncludePadding : PoolAlgorithm.AverageExcludePadding, input, batch, direction,
            Kernel, Stride, Padding);

    public override string Describe(TensorShape input) => Pools.Describe("avg pool", Kernel, Stride, Padding);
}

/// <summary>The mean of each channel: C × H × W → C × 1 × 1 (as before a class-activation-map head).</summary>
public sealed class GlobalAvgPool(string? name = null) : PoolingLayer(name)
{
    internal override PoolProblem Problem(TensorShape input, int batch, Direction direction) =>
        PoolProblem.GlobalAverage(batch, input.Channels, input.Height, input.Width) with { Direction = direction };

    public override string Describe(TensorShape input) => "global avg pool";
}

internal static class Pools
{
    public static PoolProblem Window(PoolAlgorithm algorithm, TensorShape input, int batch, Direction direction, int kernel, int stride,
        int padding) => new()
    {
        Algorithm = algorithm,
        Batch = batch,
        Channels = input.Channels,
        InHeight = input.Height,
        InWidth = input.Width,
        KernelHeight = kernel,
        KernelWidth = kernel,
        StrideHeight = stride,
        StrideWidth = stride,
        PadHeight = padding,
        PadWidth = padding,
        Direction = direction,
    };

    public static string Describe(string what, int kernel, int stride, int padding) =>
        $"{what} {kernel}×{kernel}" + (stride != kernel ? $" stride {stride}" : "") + (padding != 0 ? $" pad {padding}" : "");
}

/// <summary>A pooling layer's plans: forward (with the argmax workspace in training) and backward data.</summary>
internal sealed class PoolStep : LayerStep
{
    private readonly StepContext context;
    private readonly PoolPlan forward;
    private readonly PoolPlan? backward;
    private readonly DeviceBuffer? workspace;

    public PoolStep(StepContext context, Func<Direction, PoolProblem> problem)
    {
        this.context = context;
        try
        {
            forward = context.Backend.CreatePoolPlan(problem(context.Training ? Direction.ForwardTraining : Direction.ForwardInference));
            Output = context.Backend.Allocate(context.Batch * context.OutputShape.Size);
            if (forward.WorkspaceLength > 0) workspace = context.Backend.Allocate(forward.WorkspaceLength);
            if (context.Training && context.NeedsInputGradient)
            {
                backward = context.Backend.CreatePoolPlan(problem(Direction.BackwardData));
                DiffInput = context.Backend.Allocate(context.Batch * context.InputShape.Size);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public override void Forward(long step) => forward.Forward(context.Input, Output, workspace);

    public override void Backward(DeviceBuffer diffOutput, long step) => backward?.Backward(diffOutput, DiffInput!, workspace);

    public override void Dispose()
    {
        forward?.Dispose();
        backward?.Dispose();
        Output?.Dispose();
        workspace?.Dispose();
        DiffInput?.Dispose();
    }
}

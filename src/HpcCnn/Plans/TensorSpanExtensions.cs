using System.Numerics.Tensors;
using HpcCnn.Problems;

namespace HpcCnn;

/// <summary>
/// Plan calls on <see cref="ReadOnlyTensorSpan{T}"/>/<see cref="TensorSpan{T}"/> (layers: weights,
/// forward, backward data, backward weights; pooling: forward, backward): the same runs as
/// the flat-span overloads, after checking that each tensor has exactly the problem's NCHW shape
/// (a dense layer also takes its input flattened to batch × features) and is dense in row-major
/// order. A flat span can only be checked for being long enough; a tensor says what it holds.
/// </summary>
public static class TensorSpanExtensions
{
    /// <summary>New weights (K×C/g×R×S for a convolution, out × in features for a dense layer) and bias (K; empty: none).</summary>
    /// <exception cref="ArgumentException">A tensor's shape is not the problem's, or it is not dense row-major.</exception>
    public static void SetWeights<TProblem>(this LayerPlan<TProblem> plan, in ReadOnlyTensorSpan<float> weights, in ReadOnlyTensorSpan<float> bias = default)
        where TProblem : Problem, IWeightedProblem
    {
        ArgumentNullException.ThrowIfNull(plan);
        plan.SetWeights(TensorSpans.Flat(weights, WeightsShape(plan.Problem), nameof(weights)),
            bias.IsEmpty ? default : TensorSpans.Flat(bias, [plan.Problem.BiasLength], nameof(bias)));
    }

    /// <summary>y = layer(x): x is N×C×H×W, y is N×K×OH×OW (N×K for a dense layer).</summary>
    /// <exception cref="ArgumentException">A tensor's shape is not the problem's, or it is not dense row-major.</exception>
    public static void Forward<TProblem>(this LayerPlan<TProblem> plan, in ReadOnlyTensorSpan<float> input, in TensorSpan<float> output)
        where TProblem : Problem, IWeightedProblem
    {
        ArgumentNullException.ThrowIfNull(plan);
        plan.Forward(Input(plan.Problem, input, nameof(input)), TensorSpans.Flat(output, OutputShape(plan.Problem), nameof(output)));
    }

    /// <summary>dL/dx from dL/dy (and the forward output y when the layer has an activation).</summary>
    /// <exception cref="ArgumentException">A tensor's shape is not the problem's, or it is not dense row-major.</exception>
    public static void BackwardData<TProblem>(this LayerPlan<TProblem> plan, in ReadOnlyTensorSpan<float> diffOutput, in TensorSpan<float> diffInput,
        in ReadOnlyTensorSpan<float> output = default)
        where TProblem : Problem, IWeightedProblem
    {
        ArgumentNullException.ThrowIfNull(plan);
        var shape = OutputShape(plan.Problem);
        plan.BackwardData(TensorSpans.Flat(diffOutput, shape, nameof(diffOutput)), TensorSpans.Flat(diffInput, InputShape(plan.Problem), nameof(diffInput)),
            output.IsEmpty ? default : TensorSpans.Flat(output, shape, nameof(output)));
    }

    /// <summary>
    /// dL/dw (K×C/g×R×S for a convolution, out × in features for a dense layer) and, for a BWD_WB
    /// plan, dL/db (K) from x and dL/dy (and y when the layer has an activation).
    /// </summary>
    /// <exception cref="ArgumentException">A tensor's shape is not the problem's, or it is not dense row-major.</exception>
    public static void BackwardWeights<TProblem>(this LayerPlan<TProblem> plan, in ReadOnlyTensorSpan<float> input, in ReadOnlyTensorSpan<float> diffOutput,
        in TensorSpan<float> diffWeights, in TensorSpan<float> diffBias = default, in ReadOnlyTensorSpan<float> output = default)
        where TProblem : Problem, IWeightedProblem
    {
        ArgumentNullException.ThrowIfNull(plan);
        var shape = OutputShape(plan.Problem);
        plan.BackwardWeights(Input(plan.Problem, input, nameof(input)), TensorSpans.Flat(diffOutput, shape, nameof(diffOutput)),
            TensorSpans.Flat(diffWeights, WeightsShape(plan.Problem), nameof(diffWeights)),
            diffBias.IsEmpty ? default : TensorSpans.Flat(diffBias, [plan.Problem.BiasLength], nameof(diffBias)),
            output.IsEmpty ? default : TensorSpans.Flat(output, shape, nameof(output)));
    }

    /// <summary>y = pool(x): x is N×C×H×W, y is N×C×OH×OW.</summary>
    /// <exception cref="ArgumentException">A tensor's shape is not the problem's, or it is not dense row-major.</exception>
    public static void Forward(this PoolPlan plan, in ReadOnlyTensorSpan<float> input, in TensorSpan<float> output)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var p = plan.Problem;
        plan.Forward(TensorSpans.Flat(input, [p.Batch, p.Channels, p.InHeight, p.InWidth], nameof(input)),
            TensorSpans.Flat(output, [p.Batch, p.Channels, p.OutHeight, p.OutWidth], nameof(output)));
    }

    /// <summary>dL/dx = pool backward(dL/dy): dL/dy is N×C×OH×OW, dL/dx N×C×H×W; max pooling's workspace stays a flat span.</summary>
    /// <exception cref="ArgumentException">A tensor's shape is not the problem's, or it is not dense row-major.</exception>
    public static void Backward(this PoolPlan plan, in ReadOnlyTensorSpan<float> diffOutput, in TensorSpan<float> diffInput, ReadOnlySpan<int> workspace = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var p = plan.Problem;
        plan.Backward(TensorSpans.Flat(diffOutput, [p.Batch, p.Channels, p.OutHeight, p.OutWidth], nameof(diffOutput)),
            TensorSpans.Flat(diffInput, [p.Batch, p.Channels, p.InHeight, p.InWidth], nameof(diffInput)), workspace);
    }

    private static long[] WeightsShape(Problem problem) => problem switch
    {
        ConvProblem c => [c.OutChannels, c.InChannels / c.Groups, c.KernelHeight, c.KernelWidth],
        DenseProblem d => [d.OutChannels, d.InFeatures],
        _ => throw new ArgumentException($"no tensor shape for {problem.Operation.Driver} problems", nameof(problem)),
    };

    private static long[] InputShape(Problem problem) => problem switch
    {
        ConvProblem c => [c.Batch, c.InChannels, c.InHeight, c.InWidth],
        DenseProblem d => [d.Batch, d.InChannels, d.InHeight, d.InWidth],
        _ => throw new ArgumentException($"no tensor shape for {problem.Operation.Driver} problems", nameof(problem)),
    };

    private static long[] OutputShape(Problem problem) => problem switch
    {
        ConvProblem c => [c.Batch, c.OutChannels, c.OutHeight, c.OutWidth],
        DenseProblem d => [d.Batch, d.OutChannels],
        _ => throw new ArgumentException($"no tensor shape for {problem.Operation.Driver} problems", nameof(problem)),
    };

    /// <summary>The layer's input: its NCHW shape, or for a dense layer also batch × features.</summary>
    private static ReadOnlySpan<float> Input(Problem problem, in ReadOnlyTensorSpan<float> input, string name) =>
        problem is DenseProblem d && input.Rank == 2
            ? TensorSpans.Flat(input, [d.Batch, d.InFeatures], name)
            : TensorSpans.Flat(input, InputShape(problem), name);
}

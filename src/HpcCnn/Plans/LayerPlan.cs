using HpcCnn.Problems;

namespace HpcCnn;

/// <summary>
/// A problem with weights, a bias and a fused activation: convolution and the dense layer.
/// </summary>
public interface IWeightedProblem
{
    long InputLength { get; }
    long OutputLength { get; }
    long WeightsLength { get; }
    /// <summary>Elements of the bias (one per output channel).</summary>
    int BiasLength { get; }
    Activation Activation { get; }
    /// <summary>Slope of <see cref="Activation.LeakyRelu"/>; ignored otherwise.</summary>
    float ActivationAlpha { get; }
}

/// <summary>A convolution plan (see <see cref="LayerPlan{TProblem}"/>): weights KCRS, bias per output channel.</summary>
public abstract class ConvPlan : LayerPlan<ConvProblem>
{
    private protected ConvPlan(ConvProblem problem) : base(problem) { }
}

/// <summary>A dense-layer plan (see <see cref="LayerPlan{TProblem}"/>): weights out × in, bias per output feature.</summary>
public abstract class DensePlan : LayerPlan<DenseProblem>
{
    private protected DensePlan(DenseProblem problem) : base(problem) { }
}

/// <summary>
/// A plan of a layer with weights (convolution, dense) for one direction (<see cref="Plan.Direction"/>):
/// <list type="bullet">
/// <item>forward (FWD_I, FWD_D): y = act(layer(x, w) + b) — <see cref="Forward(ReadOnlySpan{float}, Span{float})"/>;</item>
/// <item>backward data (BWD_D): dL/dx from dL/dy — <see cref="BackwardData(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float})"/>;</item>
/// <item>backward weights (BWD_W, BWD_WB): dL/dw (and dL/db) from x and dL/dy — <see cref="BackwardWeights(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, ReadOnlySpan{float})"/>.</item>
/// </list>
/// With a fused activation the backward passes also read y, the forward output, to differentiate it.
/// Forward and backward-data plans use weights and an optional bias, given at creation or with
/// <see cref="SetWeights(ReadOnlySpan{float}, ReadOnlySpan{float})"/>, which repacks them: a training step changes weights without
/// recreating plans.
/// </summary>
public abstract class LayerPlan<TProblem> : Plan<TProblem> where TProblem : Problem, IWeightedProblem
{
    private volatile bool weightsSet;

    private protected LayerPlan(TProblem problem) : base(problem) { }

    /// <summary>Whether this direction uses weights (forward and backward data).</summary>
    public bool UsesWeights => !Direction.IsBackwardWeights();

    /// <summary>Whether the plan has weights to run with.</summary>
    public bool HasWeights => weightsSet;

    /// <summary>Replaces the weights and bias (empty: none) and repacks them; must not overlap a run of this plan.</summary>
    /// <exception cref="InvalidOperationException">A backward-weights plan, which takes no weights.</exception>
    public void SetWeights(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias = default)
    {
        ThrowIfDisposed();
        if (!UsesWeights) throw new InvalidOperationException($"{DirectionText.Name(Direction)} {Problem.Operation.Driver} plans take no weights");
        Guard.Length(weights.Length, Problem.WeightsLength, nameof(weights));
        if (!bias.IsEmpty) Guard.Length(bias.Length, Problem.BiasLength, nameof(bias));
        SetWeightsCore(weights[..(int)Problem.WeightsLength], bias.IsEmpty ? bias : bias[..Problem.BiasLength]);
        weightsSet = true;
    }

    /// <summary>
    /// <see cref="SetWeights(ReadOnlySpan{float}, ReadOnlySpan{float})"/> from buffers of the plan's
    /// backend, e.g. weights an optimizer has just updated there (host backends read them in place).
    /// </summary>
    public void SetWeights(DeviceBuffer weights, DeviceBuffer? bias = null)
    {
        ThrowIfDisposed();
        if (!UsesWeights) throw new InvalidOperationException($"{DirectionText.Name(Direction)} {Problem.Operation.Driver} plans take no weights");
        Buffers.Check(weights, Problem.WeightsLength, nameof(weights));
        if (bias is not null) Buffers.Check(bias, Problem.BiasLength, nameof(bias));
        SetWeightsCore(weights, bias);
        weightsSet = true;
    }

    /// <summary>y = act(layer(x, w) + b), no allocation.</summary>
    public void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        RequireForward(nameof(Forward));
        Arguments.Length(input, Problem.InputLength, nameof(input));
        Arguments.Length(output, Problem.OutputLength, nameof(output));
        Arguments.Disjoint(output, nameof(output), input, nameof(input));
        ForwardCore(input[..(int)Problem.InputLength], output[..(int)Problem.OutputLength]);
    }

    /// <summary>The same as <see cref="Forward(ReadOnlySpan{float}, Span{float})"/>.</summary>
    public void Run(ReadOnlySpan<float> input, Span<float> output) => Forward(input, output);

    /// <summary>Forward on buffers of the plan's backend (no host round trip on OpenCL).</summary>
    public void Forward(DeviceBuffer input, DeviceBuffer output)
    {
        RequireForward(nameof(Forward));
        Buffers.Check(input, Problem.InputLength, nameof(input));
        Buffers.Check(output, Problem.OutputLength, nameof(output));
        Buffers.Distinct(output, nameof(output), input);
        ForwardCore(input, output);
    }

    /// <summary>dL/dx from dL/dy; <paramref name="output"/> (the forward output y) is needed when the activation is not None.</summary>
    public void BackwardData(ReadOnlySpan<float> diffOutput, Span<float> diffInput, ReadOnlySpan<float> output = default)
    {
        RequireDirection(nameof(BackwardData), Direction.BackwardData);
        RequireWeights();
        Arguments.Length(diffOutput, Problem.OutputLength, nameof(diffOutput));
        Arguments.Length(diffInput, Problem.InputLength, nameof(diffInput));
        RequireOutputForActivation(output.Length);
        Arguments.Disjoint(diffInput, nameof(diffInput), diffOutput, nameof(diffOutput));
        Arguments.Disjoint(diffInput, nameof(diffInput), output, nameof(output));
        BackwardDataCore(diffOutput[..(int)Problem.OutputLength], Activated(output), diffInput[..(int)Problem.InputLength]);
    }

    /// <summary>Backward data on buffers of the plan's backend.</summary>
    public void BackwardData(DeviceBuffer diffOutput, DeviceBuffer diffInput, DeviceBuffer? output = null)
    {
        RequireDirection(nameof(BackwardData), Direction.BackwardData);
        RequireWeights();
        Buffers.Check(diffOutput, Problem.OutputLength, nameof(diffOutput));
        Buffers.Check(diffInput, Problem.InputLength, nameof(diffInput));
        RequireOutputForActivation(output?.Length ?? 0);
        Buffers.Distinct(diffInput, nameof(diffInput), diffOutput, output);
        BackwardDataCore(diffOutput, Problem.Activation == Activation.None ? null : output, diffInput);
    }

    /// <summary>
    /// dL/dw and, for a BWD_WB plan, dL/db from x and dL/dy; <paramref name="output"/>
    /// (the forward output y) is needed when the activation is not None. Reductions over the batch
    /// and pixels run in a fixed order: the same bits for any thread count.
    /// </summary>
    public void BackwardWeights(ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput, Span<float> diffWeights,
        Span<float> diffBias = default, ReadOnlySpan<float> output = default)
    {
        RequireDirection(nameof(BackwardWeights), Direction.BackwardWeights, Direction.BackwardWeightsAndBias);
        Arguments.Length(input, Problem.InputLength, nameof(input));
        Arguments.Length(diffOutput, Problem.OutputLength, nameof(diffOutput));
        Arguments.Length(diffWeights, Problem.WeightsLength, nameof(diffWeights));
        RequireBiasGradient(diffBias.Length);
        RequireOutputForActivation(output.Length);
        WrittenAlone(diffWeights, nameof(diffWeights), input, diffOutput, output);
        WrittenAlone(diffBias, nameof(diffBias), input, diffOutput, output);
        Arguments.Disjoint(diffWeights, nameof(diffWeights), diffBias, nameof(diffBias));
        BackwardWeightsCore(input[..(int)Problem.InputLength], diffOutput[..(int)Problem.OutputLength], Activated(output),
            diffWeights[..(int)Problem.WeightsLength], diffBias.IsEmpty ? diffBias : diffBias[..Problem.BiasLength]);
    }

    /// <summary>Backward weights on buffers of the plan's backend.</summary>
    public void BackwardWeights(DeviceBuffer input, DeviceBuffer diffOutput, DeviceBuffer diffWeights, DeviceBuffer? diffBias = null,
        DeviceBuffer? output = null)
    {
        RequireDirection(nameof(BackwardWeights), Direction.BackwardWeights, Direction.BackwardWeightsAndBias);
        Buffers.Check(input, Problem.InputLength, nameof(input));
        Buffers.Check(diffOutput, Problem.OutputLength, nameof(diffOutput));
        Buffers.Check(diffWeights, Problem.WeightsLength, nameof(diffWeights));
        RequireBiasGradient(diffBias?.Length ?? 0);
        RequireOutputForActivation(output?.Length ?? 0);
        Buffers.Distinct(diffWeights, nameof(diffWeights), input, diffOutput, output, diffBias);
        if (diffBias is not null) Buffers.Distinct(diffBias, nameof(diffBias), input, diffOutput, output);
        BackwardWeightsCore(input, diffOutput, Problem.Activation == Activation.None ? null : output, diffWeights, diffBias);
    }

    private protected abstract void SetWeightsCore(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias);
    private protected abstract void ForwardCore(ReadOnlySpan<float> input, Span<float> output);
    /// <summary><paramref name="output"/> is empty when the activation is None.</summary>
    private protected abstract void BackwardDataCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output, Span<float> diffInput);
    /// <summary><paramref name="output"/> is empty when the activation is None; <paramref name="diffBias"/> is empty for BWD_W.</summary>
    private protected abstract void BackwardWeightsCore(ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output,
        Span<float> diffWeights, Span<float> diffBias);

    /// <summary>Host buffers are read in place; others are downloaded first (a backend may override to stay on its device).</summary>
    private protected virtual void SetWeightsCore(DeviceBuffer weights, DeviceBuffer? bias)
    {
        int n = (int)Problem.WeightsLength, m = Problem.BiasLength;
        ReadOnlySpan<float> w = weights is HostBuffer ? Buffers.Host(weights)[..n] : Download(weights, n);
        ReadOnlySpan<float> b = bias is null ? default : bias is HostBuffer ? Buffers.Host(bias)[..m] : Download(bias, m);
        SetWeightsCore(w, b);

        static float[] Download(DeviceBuffer buffer, int count)
        {
            var values = new float[count];
            buffer.Download(values);
            return values;
        }
    }

    private protected virtual void ForwardCore(DeviceBuffer input, DeviceBuffer output) =>
        ForwardCore(Buffers.Host(input), Buffers.Host(output));

    private protected virtual void BackwardDataCore(DeviceBuffer diffOutput, DeviceBuffer? output, DeviceBuffer diffInput) =>
        BackwardDataCore(Buffers.Host(diffOutput), Buffers.HostOrEmpty(output), Buffers.Host(diffInput));

    private protected virtual void BackwardWeightsCore(DeviceBuffer input, DeviceBuffer diffOutput, DeviceBuffer? output,
        DeviceBuffer diffWeights, DeviceBuffer? diffBias) =>
        BackwardWeightsCore(Buffers.Host(input), Buffers.Host(diffOutput), Buffers.HostOrEmpty(output), Buffers.Host(diffWeights),
            diffBias is null ? default : Buffers.Host(diffBias));

    /// <summary>Marks weights given at creation.</summary>
    private protected void WeightsGiven() => weightsSet = true;

    private void RequireForward(string method)
    {
        RequireDirection(method, Direction.ForwardInference, Direction.ForwardTraining);
        RequireWeights();
    }

    private void RequireWeights()
    {
        if (!weightsSet) throw new InvalidOperationException("the plan has no weights yet: pass them at creation or call SetWeights");
    }

    private void RequireOutputForActivation(long length)
    {
        if (Problem.Activation != Activation.None && length == 0)
            throw new ArgumentException(
                $"the forward output y is needed to differentiate the fused {Problem.Activation}", "output");
        if (length != 0) Guard.Length(length, Problem.OutputLength, "output");
    }

    private void RequireBiasGradient(long length)
    {
        if (Direction == Direction.BackwardWeightsAndBias && length == 0)
            throw new ArgumentException("a BWD_WB plan writes the bias gradient: pass diffBias", "diffBias");
        if (Direction == Direction.BackwardWeights && length != 0)
            throw new ArgumentException("a BWD_W plan computes no bias gradient; create the plan for BWD_WB", "diffBias");
        if (length != 0) Guard.Length(length, Problem.BiasLength, "diffBias");
    }

    private static void WrittenAlone(ReadOnlySpan<float> written, string name, ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput,
        ReadOnlySpan<float> output)
    {
        Arguments.Disjoint(written, name, input, "input");
        Arguments.Disjoint(written, name, diffOutput, "diffOutput");
        Arguments.Disjoint(written, name, output, "output");
    }

    private ReadOnlySpan<float> Activated(ReadOnlySpan<float> output) =>
        Problem.Activation == Activation.None ? default : output[..(int)Problem.OutputLength];
}

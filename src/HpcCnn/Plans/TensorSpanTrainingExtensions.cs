using System.Numerics.Tensors;
using HpcCnn.Training;

namespace HpcCnn;

/// <summary>
/// The rest of the API on <see cref="ReadOnlyTensorSpan{T}"/>/<see cref="TensorSpan{T}"/>:
/// elementwise activations, softmax cross-entropy (batch × classes), dropout and the optimizer
/// updates. Elementwise calls take any shape whose element count is the problem's, every tensor of
/// a call the same shape; all must be dense in row-major order. Labels stay int spans.
/// </summary>
public static class TensorSpanTrainingExtensions
{
    /// <summary>y = f(x); <paramref name="output"/> has <paramref name="input"/>'s shape and may be it.</summary>
    /// <exception cref="ArgumentException">A shape differs, or a tensor is not dense row-major.</exception>
    public static void Forward(this EltwisePlan plan, in ReadOnlyTensorSpan<float> input, in TensorSpan<float> output)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var shape = ElementwiseShape(input.Lengths, plan.Problem.Length, nameof(input));
        plan.Forward(TensorSpans.Flat(input, shape, nameof(input)), TensorSpans.Flat(output, shape, nameof(output), InputHas));
    }

    /// <summary>dx = f'(from y)·dy; all three of y's shape; <paramref name="diffInput"/> may be <paramref name="diffOutput"/>.</summary>
    /// <exception cref="ArgumentException">A shape differs, or a tensor is not dense row-major.</exception>
    public static void Backward(this EltwisePlan plan, in ReadOnlyTensorSpan<float> output, in ReadOnlyTensorSpan<float> diffOutput,
        in TensorSpan<float> diffInput)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var shape = ElementwiseShape(output.Lengths, plan.Problem.Length, nameof(output));
        plan.Backward(TensorSpans.Flat(output, shape, nameof(output)), TensorSpans.Flat(diffOutput, shape, nameof(diffOutput), OutputHas),
            TensorSpans.Flat(diffInput, shape, nameof(diffInput), OutputHas));
    }

    /// <summary>Probabilities (batch × classes) from logits (batch × classes).</summary>
    /// <exception cref="ArgumentException">A tensor is not batch × classes, or not dense row-major.</exception>
    public static void Forward(this SoftmaxPlan plan, in ReadOnlyTensorSpan<float> logits, in TensorSpan<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long[] shape = [plan.Problem.Batch, plan.Problem.Classes];
        plan.Forward(TensorSpans.Flat(logits, shape, nameof(logits)), TensorSpans.Flat(probabilities, shape, nameof(probabilities)));
    }

    /// <summary>Probabilities and the mean cross-entropy loss of <paramref name="labels"/> (FWD_D); returns the loss.</summary>
    /// <exception cref="ArgumentException">A tensor is not batch × classes, or not dense row-major; a label is outside [0, classes).</exception>
    public static float Forward(this SoftmaxPlan plan, in ReadOnlyTensorSpan<float> logits, ReadOnlySpan<int> labels, in TensorSpan<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long[] shape = [plan.Problem.Batch, plan.Problem.Classes];
        return plan.Forward(TensorSpans.Flat(logits, shape, nameof(logits)), labels, TensorSpans.Flat(probabilities, shape, nameof(probabilities)));
    }

    /// <summary>dL/dlogits (batch × classes) from the probabilities (batch × classes) and labels (BWD_D).</summary>
    /// <exception cref="ArgumentException">A tensor is not batch × classes, or not dense row-major; a label is outside [0, classes).</exception>
    public static void Backward(this SoftmaxPlan plan, in ReadOnlyTensorSpan<float> probabilities, ReadOnlySpan<int> labels, in TensorSpan<float> diffLogits)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long[] shape = [plan.Problem.Batch, plan.Problem.Classes];
        plan.Backward(TensorSpans.Flat(probabilities, shape, nameof(probabilities)), labels, TensorSpans.Flat(diffLogits, shape, nameof(diffLogits)));
    }

    /// <summary>Inverted dropout at training step <paramref name="step"/>; <paramref name="output"/> has <paramref name="input"/>'s shape and may be it.</summary>
    /// <exception cref="ArgumentException">The shapes differ, or a tensor is not dense row-major.</exception>
    public static void DropoutForward(this Backend backend, DropoutMask dropout, long step, in ReadOnlyTensorSpan<float> input, in TensorSpan<float> output)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var shape = TensorSpans.ShapeOf(input.Lengths);
        backend.DropoutForward(dropout, step, TensorSpans.Flat(input, shape, nameof(input)), TensorSpans.Flat(output, shape, nameof(output), InputHas));
    }

    /// <summary>The backward of <see cref="DropoutForward(Backend, DropoutMask, long, in ReadOnlyTensorSpan{float}, in TensorSpan{float})"/> with the same mask.</summary>
    /// <exception cref="ArgumentException">The shapes differ, or a tensor is not dense row-major.</exception>
    public static void DropoutBackward(this Backend backend, DropoutMask dropout, long step, in ReadOnlyTensorSpan<float> diffOutput, in TensorSpan<float> diffInput)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var shape = TensorSpans.ShapeOf(diffOutput.Lengths);
        backend.DropoutBackward(dropout, step, TensorSpans.Flat(diffOutput, shape, nameof(diffOutput)),
            TensorSpans.Flat(diffInput, shape, nameof(diffInput), "diffOutput has"));
    }

    /// <summary>One SGD step on a weights tensor; the gradients (and velocity, with momentum) have its shape.</summary>
    /// <exception cref="ArgumentException">A shape differs, or a tensor is not dense row-major.</exception>
    public static void Update(this Backend backend, Sgd sgd, in TensorSpan<float> weights, in ReadOnlyTensorSpan<float> gradients,
        in TensorSpan<float> velocity = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var shape = TensorSpans.ShapeOf(weights.Lengths);
        backend.Update(sgd, TensorSpans.Flat(weights, shape, nameof(weights)), TensorSpans.Flat(gradients, shape, nameof(gradients), WeightsHave),
            velocity.IsEmpty ? default : TensorSpans.Flat(velocity, shape, nameof(velocity), WeightsHave));
    }

    /// <summary>One Adam step (<paramref name="step"/> from 1) on a weights tensor; gradients and moments have its shape.</summary>
    /// <exception cref="ArgumentException">A shape differs, or a tensor is not dense row-major.</exception>
    public static void Update(this Backend backend, Adam adam, long step, in TensorSpan<float> weights, in ReadOnlyTensorSpan<float> gradients,
        in TensorSpan<float> firstMoment, in TensorSpan<float> secondMoment)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var shape = TensorSpans.ShapeOf(weights.Lengths);
        backend.Update(adam, step, TensorSpans.Flat(weights, shape, nameof(weights)), TensorSpans.Flat(gradients, shape, nameof(gradients), WeightsHave),
            TensorSpans.Flat(firstMoment, shape, nameof(firstMoment), WeightsHave), TensorSpans.Flat(secondMoment, shape, nameof(secondMoment), WeightsHave));
    }

    private const string InputHas = "input has";
    private const string OutputHas = "output has";
    private const string WeightsHave = "weights have";

    /// <summary>The first tensor's shape, which must hold the problem's element count.</summary>
    private static long[] ElementwiseShape(ReadOnlySpan<nint> lengths, long length, string name)
    {
        var shape = TensorSpans.ShapeOf(lengths);
        long count = 1;
        foreach (var extent in shape) count *= extent;
        if (count != length) throw new ArgumentException($"{name} holds {count} elements; the problem has {length}", name);
        return shape;
    }
}

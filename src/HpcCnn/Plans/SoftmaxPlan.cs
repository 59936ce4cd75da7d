using HpcCnn.Problems;

namespace HpcCnn;

/// <summary>
/// A softmax cross-entropy plan (see <see cref="SoftmaxProblem"/>): forward inference
/// (probabilities from logits), forward training (also the mean loss for int32 labels), or backward
/// data (the logits' gradient from the probabilities and labels). Labels must lie in
/// [0, Classes); on host memory they are checked before any computation.
/// </summary>
public abstract class SoftmaxPlan : Plan<SoftmaxProblem>
{
    private protected SoftmaxPlan(SoftmaxProblem problem) : base(problem) { }

    private int Length => (int)Problem.InputLength;

    /// <summary>Probabilities from logits (FWD_I, or FWD_D without a loss).</summary>
    public void Forward(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        RequireDirection(nameof(Forward), Direction.ForwardInference, Direction.ForwardTraining);
        Arguments.Length(logits, Length, nameof(logits));
        Arguments.Length(probabilities, Length, nameof(probabilities));
        Arguments.Disjoint(probabilities, nameof(probabilities), logits, nameof(logits));
        ForwardCore(logits[..Length], default, probabilities[..Length]);
    }

    /// <summary>Probabilities and the mean cross-entropy loss of <paramref name="labels"/> (FWD_D); returns the loss.</summary>
    public float Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> probabilities)
    {
        RequireDirection(nameof(Forward), Direction.ForwardTraining);
        Arguments.Length(logits, Length, nameof(logits));
        Arguments.Length(probabilities, Length, nameof(probabilities));
        CheckLabels(labels);
        Arguments.Disjoint(probabilities, nameof(probabilities), logits, nameof(logits));
        return ForwardCore(logits[..Length], labels[..Problem.Batch], probabilities[..Length]);
    }

    /// <summary>dL/dlogits = (p − onehot(label)) / Batch, the gradient of the mean loss (BWD_D).</summary>
    public void Backward(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, Span<float> diffLogits)
    {
        RequireDirection(nameof(Backward), Direction.BackwardData);
        Arguments.Length(probabilities, Length, nameof(probabilities));
        Arguments.Length(diffLogits, Length, nameof(diffLogits));
        CheckLabels(labels);
        Arguments.Disjoint(diffLogits, nameof(diffLogits), probabilities, nameof(probabilities));
        BackwardCore(probabilities[..Length], labels[..Problem.Batch], diffLogits[..Length]);
    }

    /// <summary>
    /// Forward on buffers of the plan's backend. With <paramref name="labels"/> (int32, see
    /// <see cref="DeviceBuffer.Upload(ReadOnlySpan{int}, long)"/>) and <paramref name="loss"/> (one
    /// element) on a FWD_D plan, also the mean loss, left in <paramref name="loss"/>. A device cannot
    /// report a label outside [0, Classes): that row's loss is NaN instead.
    /// </summary>
    public void Forward(DeviceBuffer logits, DeviceBuffer probabilities, DeviceBuffer? labels = null, DeviceBuffer? loss = null)
    {
        RequireDirection(nameof(Forward), Direction.ForwardInference, Direction.ForwardTraining);
        Buffers.Check(logits, Length, nameof(logits));
        Buffers.Check(probabilities, Length, nameof(probabilities));
        if ((labels is null) != (loss is null)) throw new ArgumentException("labels and loss go together", nameof(loss));
        if (labels is not null)
        {
            RequireDirection(nameof(Forward) + " with labels", Direction.ForwardTraining);
            Buffers.Check(labels, Problem.Batch, nameof(labels));
            Buffers.Check(loss!, 1, nameof(loss));
            Buffers.Distinct(loss!, nameof(loss), logits, probabilities, labels);
        }
        Buffers.Distinct(probabilities, nameof(probabilities), logits, labels);
        ForwardCore(logits, labels, probabilities, loss);
    }

    /// <summary>Backward on buffers of the plan's backend (a label outside [0, Classes) gives NaN gradients on a device).</summary>
    public void Backward(DeviceBuffer probabilities, DeviceBuffer labels, DeviceBuffer diffLogits)
    {
        RequireDirection(nameof(Backward), Direction.BackwardData);
        Buffers.Check(probabilities, Length, nameof(probabilities));
        Buffers.Check(labels, Problem.Batch, nameof(labels));
        Buffers.Check(diffLogits, Length, nameof(diffLogits));
        Buffers.Distinct(diffLogits, nameof(diffLogits), probabilities, labels);
        BackwardCore(probabilities, labels, diffLogits);
    }

    /// <summary>Writes the probabilities; with labels (not empty) returns the mean loss, else NaN.</summary>
    private protected abstract float ForwardCore(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> probabilities);
    private protected abstract void BackwardCore(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, Span<float> diffLogits);

    private protected virtual void ForwardCore(DeviceBuffer logits, DeviceBuffer? labels, DeviceBuffer probabilities, DeviceBuffer? loss)
    {
        var hostLabels = labels is null ? default : Buffers.HostInts(labels)[..Problem.Batch];
        CheckLabels(hostLabels, labels is null);
        float value = ForwardCore(Buffers.Host(logits)[..Length], hostLabels, Buffers.Host(probabilities)[..Length]);
        if (loss is not null) Buffers.Host(loss)[0] = value;
    }

    private protected virtual void BackwardCore(DeviceBuffer probabilities, DeviceBuffer labels, DeviceBuffer diffLogits)
    {
        var hostLabels = Buffers.HostInts(labels)[..Problem.Batch];
        CheckLabels(hostLabels);
        BackwardCore(Buffers.Host(probabilities)[..Length], hostLabels, Buffers.Host(diffLogits)[..Length]);
    }

    private void CheckLabels(ReadOnlySpan<int> labels, bool none = false)
    {
        if (none) return;
        Arguments.Length(labels, Problem.Batch, nameof(labels));
        for (int b = 0; b < Problem.Batch; b++)
            if ((uint)labels[b] >= (uint)Problem.Classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[b], $"labels[{b}] = {labels[b]} is not a class (0 .. {Problem.Classes - 1})");
    }
}

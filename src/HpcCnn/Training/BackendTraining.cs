using HpcCnn.Training;

namespace HpcCnn;

/// <summary>The training steps outside the plans: dropout and the optimizers' updates, on every backend.</summary>
public abstract partial class Backend
{
    /// <summary>
    /// output = mask·input·scale for every element of <paramref name="input"/>, the mask drawn for
    /// <paramref name="step"/> (see <see cref="DropoutMask"/>). <paramref name="output"/> may be
    /// <paramref name="input"/> itself but must not overlap it otherwise.
    /// </summary>
    public void DropoutForward(DropoutMask dropout, long step, ReadOnlySpan<float> input, Span<float> output)
    {
        CheckDropout(dropout, input, output, nameof(output));
        DropoutCore(dropout, step, input, output[..input.Length]);
    }

    /// <summary>dL/dx = mask·dL/dy·scale with the mask the forward pass drew for <paramref name="step"/>.</summary>
    public void DropoutBackward(DropoutMask dropout, long step, ReadOnlySpan<float> diffOutput, Span<float> diffInput)
    {
        CheckDropout(dropout, diffOutput, diffInput, nameof(diffInput));
        DropoutCore(dropout, step, diffOutput, diffInput[..diffOutput.Length]);
    }

    /// <summary><see cref="DropoutForward(DropoutMask, long, ReadOnlySpan{float}, Span{float})"/> on buffers of this backend (output may be input).</summary>
    public void DropoutForward(DropoutMask dropout, long step, DeviceBuffer input, DeviceBuffer output)
    {
        CheckDropout(dropout, input, output, nameof(output));
        DropoutCore(dropout, step, input, output, input.Length);
    }

    /// <summary><see cref="DropoutBackward(DropoutMask, long, ReadOnlySpan{float}, Span{float})"/> on buffers of this backend.</summary>
    public void DropoutBackward(DropoutMask dropout, long step, DeviceBuffer diffOutput, DeviceBuffer diffInput)
    {
        CheckDropout(dropout, diffOutput, diffInput, nameof(diffInput));
        DropoutCore(dropout, step, diffOutput, diffInput, diffOutput.Length);
    }

    /// <summary>
    /// One SGD step on every element of <paramref name="weights"/> (see <see cref="Sgd"/>);
    /// <paramref name="velocity"/> (zero at the start) is needed only with momentum. No two buffers may overlap.
    /// </summary>
    public void Update(Sgd sgd, Span<float> weights, ReadOnlySpan<float> gradients, Span<float> velocity = default)
    {
        ArgumentNullException.ThrowIfNull(sgd);
        sgd.Validate();
        int n = weights.Length;
        Guard.Length(gradients.Length, n, nameof(gradients));
        if (sgd.NeedsVelocity) Guard.Length(velocity.Length, n, nameof(velocity));
        var v = sgd.NeedsVelocity ? velocity[..n] : default;
        Disjoint(weights, nameof(weights), gradients[..n], v);
        Disjoint(v, nameof(velocity), gradients[..n]);
        SgdCore(sgd, weights, gradients[..n], v);
    }

    /// <summary>The SGD step on buffers of this backend.</summary>
    public void Update(Sgd sgd, DeviceBuffer weights, DeviceBuffer gradients, DeviceBuffer? velocity = null)
    {
        ArgumentNullException.ThrowIfNull(sgd);
        ArgumentNullException.ThrowIfNull(weights);
        sgd.Validate();
        Buffers.Check(gradients, weights.Length, nameof(gradients));
        if (sgd.NeedsVelocity) Buffers.Check(velocity!, weights.Length, nameof(velocity));
        var v = sgd.NeedsVelocity ? velocity : null;
        Buffers.Distinct(weights, nameof(weights), gradients, v);
        if (v is not null) Buffers.Distinct(v, nameof(velocity), gradients);
        SgdCore(sgd, weights, gradients, v, weights.Length);
    }

    /// <summary>
    /// One Adam step, <paramref name="step"/> counting from 1, on every element of
    /// <paramref name="weights"/> (see <see cref="Adam"/>); the moments start at zero. No two buffers may overlap.
    /// </summary>
    public void Update(Adam adam, long step, Span<float> weights, ReadOnlySpan<float> gradients, Span<float> firstMoment, Span<float> secondMoment)
    {
        ArgumentNullException.ThrowIfNull(adam);
        adam.Validate();
        OptimizerRules.Step(step);
        int n = weights.Length;
        Guard.Length(gradients.Length, n, nameof(gradients));
        Guard.Length(firstMoment.Length, n, nameof(firstMoment));
        Guard.Length(secondMoment.Length, n, nameof(secondMoment));
        var m = firstMoment[..n];
        var v = secondMoment[..n];
        Disjoint(weights, nameof(weights), gradients[..n], m, v);
        Disjoint(m, nameof(firstMoment), gradients[..n], v);
        Disjoint(v, nameof(secondMoment), gradients[..n]);
        AdamCore(adam, step, weights, gradients[..n], m, v);
    }

    /// <summary>The Adam step on buffers of this backend.</summary>
    public void Update(Adam adam, long step, DeviceBuffer weights, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment)
    {
        ArgumentNullException.ThrowIfNull(adam);
        ArgumentNullException.ThrowIfNull(weights);
        adam.Validate();
        OptimizerRules.Step(step);
        Buffers.Check(gradients, weights.Length, nameof(gradients));
        Buffers.Check(firstMoment, weights.Length, nameof(firstMoment));
        Buffers.Check(secondMoment, weights.Length, nameof(secondMoment));
        Buffers.Distinct(weights, nameof(weights), gradients, firstMoment, secondMoment);
        Buffers.Distinct(firstMoment, nameof(firstMoment), gradients, secondMoment);
        Buffers.Distinct(secondMoment, nameof(secondMoment), gradients);
        AdamCore(adam, step, weights, gradients, firstMoment, secondMoment, weights.Length);
    }

    private protected abstract void DropoutCore(DropoutMask dropout, long step, ReadOnlySpan<float> input, Span<float> output);
    private protected abstract void SgdCore(Sgd sgd, Span<float> weights, ReadOnlySpan<float> gradients, Span<float> velocity);
    private protected abstract void AdamCore(Adam adam, long step, Span<float> weights, ReadOnlySpan<float> gradients, Span<float> firstMoment,
        Span<float> secondMoment);

    private protected virtual void DropoutCore(DropoutMask dropout, long step, DeviceBuffer input, DeviceBuffer output, long length) =>
        DropoutCore(dropout, step, Buffers.Host(input)[..(int)length], Buffers.Host(output)[..(int)length]);

    private protected virtual void SgdCore(Sgd sgd, DeviceBuffer weights, DeviceBuffer gradients, DeviceBuffer? velocity, long length) =>
        SgdCore(sgd, Buffers.Host(weights)[..(int)length], Buffers.Host(gradients)[..(int)length],
            velocity is null ? default : Buffers.Host(velocity)[..(int)length]);

    private protected virtual void AdamCore(Adam adam, long step, DeviceBuffer weights, DeviceBuffer gradients, DeviceBuffer firstMoment,
        DeviceBuffer secondMoment, long length) =>
        AdamCore(adam, step, Buffers.Host(weights)[..(int)length], Buffers.Host(gradients)[..(int)length],
            Buffers.Host(firstMoment)[..(int)length], Buffers.Host(secondMoment)[..(int)length]);

    private static void CheckDropout(DropoutMask dropout, ReadOnlySpan<float> input, ReadOnlySpan<float> output, string outputName)
    {
        ArgumentNullException.ThrowIfNull(dropout);
        dropout.Validate();
        Guard.Length(output.Length, input.Length, outputName);
        if (input.Overlaps(output, out int offset) && offset != 0)
            throw new ArgumentException($"{outputName} must be the same span as its input or not overlap it", outputName);
    }

    private static void CheckDropout(DropoutMask dropout, DeviceBuffer input, DeviceBuffer output, string outputName)
    {
        ArgumentNullException.ThrowIfNull(dropout);
        ArgumentNullException.ThrowIfNull(input);
        dropout.Validate();
        Buffers.Check(output, input.Length, outputName);
    }

    private static void Disjoint(ReadOnlySpan<float> output, string name, ReadOnlySpan<float> a, ReadOnlySpan<float> b = default, ReadOnlySpan<float> c = default)
    {
        if (output.IsEmpty) return;
        if ((!a.IsEmpty && output.Overlaps(a)) || (!b.IsEmpty && output.Overlaps(b)) || (!c.IsEmpty && output.Overlaps(c)))
            throw new ArgumentException($"{name} must not overlap the other buffers of the update", name);
    }
}

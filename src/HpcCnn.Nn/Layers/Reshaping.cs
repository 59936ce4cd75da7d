namespace HpcCnn.Nn;

/// <summary>C × H × W → (C·H·W) × 1 × 1; the data stays where it is (NCHW is already flat per sample).</summary>
public sealed class Flatten(string? name = null) : Layer(name)
{
    internal override string NamePrefix => "flatten";

    public override TensorShape OutputShape(TensorShape input) =>
        input.Size <= int.MaxValue ? new TensorShape((int)input.Size, 1, 1) : throw Invalid(input, "more than 2^31 - 1 features");

    public override string Describe(TensorShape input) => "flatten";

    internal override LayerStep CreateStep(StepContext context) => new PassThroughStep(context);
}

/// <summary>
/// Inverted dropout (PyTorch's <c>nn.Dropout</c>): in training each element is zeroed with
/// probability <see cref="Rate"/> and the rest scaled by 1 / (1 − Rate); in evaluation it passes
/// the input on. The mask is Philox of (the layer's seed, the training step, the element), so it
/// is the same on every backend and thread count.
/// </summary>
public sealed class Dropout(float rate = 0.5f, string? name = null) : Layer(name)
{
    public float Rate { get; } = rate;

    internal override string NamePrefix => "dropout";

    public override TensorShape OutputShape(TensorShape input) =>
        Rate >= 0f && Rate < 1f ? input : throw Invalid(input, $"the rate {Rate} is not in [0, 1)");

    public override string Describe(TensorShape input) => $"dropout {Rate:0.##}";

    internal override LayerStep CreateStep(StepContext context) =>
        context.Training ? new DropoutStep(context, new Training.DropoutMask(Rate, context.Seed)) : new PassThroughStep(context);
}

internal sealed class DropoutStep : LayerStep
{
    private readonly StepContext context;
    private readonly Training.DropoutMask dropout;

    public DropoutStep(StepContext context, Training.DropoutMask dropout)
    {
        this.context = context;
        this.dropout = dropout;
        long length = context.Batch * context.InputShape.Size;
        Output = context.Backend.Allocate(length);
        if (context.NeedsInputGradient) DiffInput = context.Backend.Allocate(length);
    }

    public override void Forward(long step) => context.Backend.DropoutForward(dropout, step, context.Input, Output);

    public override void Backward(DeviceBuffer diffOutput, long step)
    {
        if (DiffInput is not null) context.Backend.DropoutBackward(dropout, step, diffOutput, DiffInput);
    }

    public override void Dispose()
    {
        Output.Dispose();
        DiffInput?.Dispose();
    }
}

using HpcCnn.Problems;

namespace HpcCnn.Nn;

/// <summary>
/// A fully connected layer (PyTorch's <c>nn.Linear</c>): weights out × in, a bias per output. A
/// C × H × W input is taken as its C·H·W features, so no Flatten is needed before it (one may
/// still be written). With <paramref name="dropConnect"/> &gt; 0 each training step drops weights
/// (DropConnect: the dropout mask on the weights, inverted scaling, no mask in evaluation).
/// </summary>
/// <param name="outFeatures">Outputs.</param>
/// <param name="bias">Whether the layer has a bias.</param>
/// <param name="dropConnect">The probability of dropping each weight in a training step, in [0, 1).</param>
/// <param name="name">The layer's name (default: fc1, fc2, ...).</param>
public sealed class Dense(int outFeatures, bool bias = true, float dropConnect = 0f, string? name = null) : Layer(name)
{
    public int OutFeatures { get; } = outFeatures;
    public bool HasBias { get; } = bias;
    public float DropConnect { get; } = dropConnect;

    internal override string NamePrefix => "fc";

    internal DenseProblem Problem(TensorShape input, int batch, Direction direction, Activation activation = Activation.None, float alpha = 0) => new()
    {
        Batch = batch,
        InChannels = input.Channels,
        InHeight = input.Height,
        InWidth = input.Width,
        OutChannels = OutFeatures,
        Activation = activation,
        ActivationAlpha = alpha,
        Direction = direction,
    };

    public override TensorShape OutputShape(TensorShape input)
    {
        if (!(DropConnect >= 0f && DropConnect < 1f)) throw Invalid(input, $"DropConnect rate {DropConnect} is not in [0, 1)");
        Require(Problem(input, 1, Direction.ForwardInference), input);
        return new TensorShape(OutFeatures, 1, 1);
    }

    public override string Describe(TensorShape input) =>
        $"dense {input.Size}→{OutFeatures}" + (DropConnect > 0 ? $" DropConnect {DropConnect:0.##}" : "");

    internal override IReadOnlyList<ParameterSpec> Parameters(TensorShape input)
    {
        var weight = new ParameterSpec("weight", [OutFeatures, checked((int)input.Size)], input.Size, OutFeatures, false);
        return HasBias ? [weight, new ParameterSpec("bias", [OutFeatures], input.Size, OutFeatures, true)] : [weight];
    }

    internal override LayerStep CreateStep(StepContext c) =>
        new WeightedStep<DenseProblem>(c, d => Problem(c.InputShape, c.Batch, d, c.FusedActivation, c.FusedAlpha),
            p => c.Backend.CreateDensePlan(p), DropConnect);
}

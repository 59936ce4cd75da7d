using HpcCnn.Problems;

namespace HpcCnn.Nn;

/// <summary>
/// 2-D convolution (PyTorch's <c>nn.Conv2d</c>): weights KCRS (<c>out × in/groups × kh × kw</c>),
/// a bias per output channel. Followed directly by an activation layer, the network fuses that
/// activation into the convolution's kernels.
/// </summary>
public sealed class Conv2d : Layer
{
    /// <param name="outChannels">Output channels (filters).</param>
    /// <param name="kernel">Square kernel size; set <see cref="KernelWidth"/> for a rectangle.</param>
    /// <param name="stride">Stride in both directions.</param>
    /// <param name="padding">Zero padding on every side.</param>
    /// <param name="dilation">Dilation (1 = none, as PyTorch counts it).</param>
    /// <param name="groups">Groups; equal to the input channels for a depthwise convolution.</param>
    /// <param name="bias">Whether the layer has a bias.</param>
    /// <param name="name">The layer's name (default: conv1, conv2, ...).</param>
    public Conv2d(int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true,
        string? name = null) : base(name)
    {
        OutChannels = outChannels;
        KernelHeight = KernelWidth = kernel;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        HasBias = bias;
    }

    public int OutChannels { get; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public bool HasBias { get; }

    internal override string NamePrefix => "conv";

    internal ConvProblem Problem(TensorShape input, int batch, Direction direction, Activation activation = Activation.None, float alpha = 0) => new()
    {
        Batch = batch,
        InChannels = input.Channels,
        InHeight = input.Height,
        InWidth = input.Width,
        OutChannels = OutChannels,
        KernelHeight = KernelHeight,
        KernelWidth = KernelWidth,
        StrideHeight = Stride,
        StrideWidth = Stride,
        PadHeight = Padding,
        PadWidth = Padding,
        DilationHeight = Dilation,
        DilationWidth = Dilation,
        Groups = Groups,
        Activation = activation,
        ActivationAlpha = alpha,
        Direction = direction,
    };

    public override TensorShape OutputShape(TensorShape input)
    {
        var problem = Problem(input, 1, Direction.ForwardInference);
        Require(problem, input);
        return new TensorShape(OutChannels, (int)problem.OutHeight, (int)problem.OutWidth);
    }

    public override string Describe(TensorShape input) =>
        $"conv {input.Channels}→{OutChannels} {KernelHeight}×{KernelWidth}" + (Stride != 1 ? $" stride {Stride}" : "")
        + (Padding != 0 ? $" pad {Padding}" : "") + (Dilation != 1 ? $" dilation {Dilation}" : "") + (Groups != 1 ? $" groups {Groups}" : "");

    internal override IReadOnlyList<ParameterSpec> Parameters(TensorShape input)
    {
        int perGroup = input.Channels / Groups;
        long fanIn = (long)perGroup * KernelHeight * KernelWidth, fanOut = (long)OutChannels / Groups * KernelHeight * KernelWidth;
        var weight = new ParameterSpec("weight", [OutChannels, perGroup, KernelHeight, KernelWidth], fanIn, fanOut, false);
        return HasBias ? [weight, new ParameterSpec("bias", [OutChannels], fanIn, fanOut, true)] : [weight];
    }

    internal override LayerStep CreateStep(StepContext c) =>
        new WeightedStep<ConvProblem>(c, d => Problem(c.InputShape, c.Batch, d, c.FusedActivation, c.FusedAlpha),
            p => c.Backend.CreateConvPlan(p), 0f);
}

using System.Globalization;
using System.Text;

namespace HpcCnn.Problems;

/// <summary>
/// A dense (fully connected, inner product) layer: y[b][o] = act(bias[o] + Σᵢ x[b][i]·w[o][i]),
/// weights out × in as PyTorch's nn.Linear keeps them. An NCHW input of C × H × W is its flattened
/// features (benchdnn's <c>--ip</c>: <c>mb64ic16ih5oc120</c> takes 16 channels of 5 × 5).
/// </summary>
public sealed record DenseProblem : Problem, IWeightedProblem
{
    internal static readonly HashSet<string> Keys = ["mb", "ic", "id", "ih", "iw", "oc"];

    public int Batch { get; init; } = 1;
    /// <summary>Input channels; the features are <see cref="InChannels"/> × <see cref="InHeight"/> × <see cref="InWidth"/>.</summary>
    public int InChannels { get; init; }
    public int InHeight { get; init; } = 1;
    public int InWidth { get; init; } = 1;
    public int OutChannels { get; init; }
    public Activation Activation { get; init; }
    /// <summary>Slope of <see cref="Activation.LeakyRelu"/>; ignored otherwise.</summary>
    public float ActivationAlpha { get; init; }

    public long InFeatures => Geometry.SaturatingProduct(InChannels, InHeight, InWidth);
    public override long InputLength => Geometry.SaturatingProduct(Batch, InFeatures);
    public override long OutputLength => Geometry.SaturatingProduct(Batch, OutChannels);
    /// <summary>Elements of the weights: out × in features.</summary>
    public long WeightsLength => Geometry.SaturatingProduct(OutChannels, InFeatures);
    public int BiasLength => OutChannels;
    /// <summary>Nominal FLOPs of one pass in any direction: 2·batch·out·in.</summary>
    public long Flops => Geometry.SaturatingProduct(2, Batch, OutChannels, InFeatures);

    public override Operation Operation => Operation.Dense;

    internal override Problem WithBatch(int batch) => this with { Batch = batch };

    public override void Validate()
    {
        RequireDirection();
        RequireRange(Batch, 1, nameof(Batch));
        RequireRange(InChannels, 1, nameof(InChannels));
        RequireRange(InHeight, 1, nameof(InHeight));
        RequireRange(InWidth, 1, nameof(InWidth));
        RequireRange(OutChannels, 1, nameof(OutChannels));
        if (!Enum.IsDefined(Activation)) throw new ArgumentOutOfRangeException(nameof(Activation), Activation, "unknown activation");
        if (Activation == Activation.LeakyRelu && !float.IsFinite(ActivationAlpha))
            throw new ArgumentOutOfRangeException(nameof(ActivationAlpha), ActivationAlpha, "ActivationAlpha must be finite");
        if (Activation == Activation.LeakyRelu && !Direction.IsForward() && ActivationAlpha < 0)
            throw new ArgumentOutOfRangeException(nameof(ActivationAlpha), ActivationAlpha,
                "the backward passes of LeakyReLU need ActivationAlpha >= 0 (they read the output's sign)");
        RequireSpanLength(InputLength, nameof(InputLength));
        RequireSpanLength(OutputLength, nameof(OutputLength));
        RequireSpanLength(WeightsLength, nameof(WeightsLength));
    }

    /// <summary>
    /// Parses benchdnn's inner-product form, e.g. <c>mb64ic16ih5oc120n"lenet5_f1"</c>, optionally
    /// preceded by <c>--dir=</c> and <c>--attr-post-ops=</c>. mb is 2 by default, ih 1, iw repeats ih.
    /// </summary>
    /// <exception cref="UnsupportedProblemException">A 3-D input (<c>id</c>).</exception>
    /// <exception cref="FormatException">The text is not a dense problem.</exception>
    public static DenseProblem Parse(string text) => FromDescriptor(Descriptor.ParseLine(text, Keys, Operation.Dense.Driver));

    internal static DenseProblem FromDescriptor(Descriptor d)
    {
        d.RejectOptionsExcept("attr-post-ops", "dir");
        if (d.Get("id", 0) != 0) throw new UnsupportedProblemException($"'{d.Text}': a 3-D input (id); HpcCnn runs 2-D problems only");
        var (activation, alpha) = ConvProblem.ParsePostOps(d);
        int ih = d.Get("ih", 1);
        return new DenseProblem
        {
            Batch = d.Get("mb", ConvProblem.DefaultBatch),
            InChannels = d.Required("ic"),
            InHeight = ih,
            InWidth = d.Get("iw", ih),
            OutChannels = d.Required("oc"),
            Activation = activation,
            ActivationAlpha = alpha,
            Direction = d.Direction,
            Name = d.Name,
        };
    }

    public override string ToString()
    {
        var text = new StringBuilder(TextPrefix);
        if (ConvProblem.PostOpsText(Activation, ActivationAlpha) is { } postOps) text.Append("--attr-post-ops=").Append(postOps).Append(' ');
        text.Append("mb").Append(Batch.ToString(CultureInfo.InvariantCulture));
        text.Append("ic").Append(InChannels.ToString(CultureInfo.InvariantCulture));
        if (InHeight != 1 || InWidth != 1) text.Append("ih").Append(InHeight.ToString(CultureInfo.InvariantCulture));
        if (InWidth != InHeight) text.Append("iw").Append(InWidth.ToString(CultureInfo.InvariantCulture));
        text.Append("oc").Append(OutChannels.ToString(CultureInfo.InvariantCulture));
        Descriptor.AppendName(text, Name);
        return text.ToString();
    }
}

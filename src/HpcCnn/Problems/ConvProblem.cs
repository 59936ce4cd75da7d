using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace HpcCnn.Problems;

/// <summary>
/// A 2-D convolution: NCHW input, KCRS weights (K = out channels, C = in channels per group),
/// optional bias, fused activation; forward, backward data or backward weights by
/// <see cref="Problem.Direction"/>. Dilation is 1-based (1 = dense kernel) as in PyTorch; the text
/// form counts it from 0 as benchdnn does.
/// </summary>
/// <example><c>ConvProblem.Parse("mb1ic64ih56oc64kh3ph1")</c></example>
public sealed record ConvProblem : Problem, IWeightedProblem
{
    internal static readonly HashSet<string> Keys = ["g", "mb", "ic", "oc", .. SpatialAxes.Keys];

    /// <summary>benchdnn's default minibatch when the text omits <c>mb</c>.</summary>
    public const int DefaultBatch = 2;

    public int Batch { get; init; } = 1;
    public int InChannels { get; init; }
    public int InHeight { get; init; }
    public int InWidth { get; init; }
    public int OutChannels { get; init; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int StrideHeight { get; init; } = 1;
    public int StrideWidth { get; init; } = 1;
    /// <summary>Zero rows above the image.</summary>
    public int PadTop { get; init; }
    /// <summary>Zero rows below the image.</summary>
    public int PadBottom { get; init; }
    /// <summary>Zero columns left of the image.</summary>
    public int PadLeft { get; init; }
    /// <summary>Zero columns right of the image.</summary>
    public int PadRight { get; init; }

    /// <summary>Sets <see cref="PadTop"/> and <see cref="PadBottom"/> to the same value (the common, symmetric case).</summary>
    public int PadHeight { init { PadTop = value; PadBottom = value; } }

    /// <summary>Sets <see cref="PadLeft"/> and <see cref="PadRight"/> to the same value (the common, symmetric case).</summary>
    public int PadWidth { init { PadLeft = value; PadRight = value; } }

    /// <summary>1-based: 1 is a dense kernel, 2 leaves one gap between taps.</summary>
    public int DilationHeight { get; init; } = 1;
    /// <summary>1-based: 1 is a dense kernel, 2 leaves one gap between taps.</summary>
    public int DilationWidth { get; init; } = 1;
    /// <summary>Channel groups; <see cref="Groups"/> = in = out channels is a depthwise convolution.</summary>
    public int Groups { get; init; } = 1;
    public Activation Activation { get; init; }
    /// <summary>Slope of <see cref="Activation.LeakyRelu"/>; ignored otherwise.</summary>
    public float ActivationAlpha { get; init; }

    public long OutHeight => HeightAxis.Output;
    public long OutWidth => WidthAxis.Output;
    public override long InputLength => Geometry.SaturatingProduct(Batch, InChannels, InHeight, InWidth);
    public override long OutputLength => Geometry.SaturatingProduct(Batch, OutChannels, OutHeight, OutWidth);
    /// <summary>Elements of the KCRS weights: out_channels · in_channels/groups · kh · kw.</summary>
    public long WeightsLength => Geometry.SaturatingProduct(OutChannels, InChannels / Math.Max(Groups, 1), KernelHeight, KernelWidth);
    /// <summary>Elements of the bias when one is given (one per output channel).</summary>
    public int BiasLength => OutChannels;
    /// <summary>Nominal FLOPs of one forward pass, 2·N·K·Ho·Wo·(C/G)·R·S.</summary>
    public long Flops => Geometry.ConvForwardFlops(this);

    internal Axis HeightAxis => new(InHeight, KernelHeight, StrideHeight, PadTop, PadBottom, DilationHeight);
    internal Axis WidthAxis => new(InWidth, KernelWidth, StrideWidth, PadLeft, PadRight, DilationWidth);

    /// <summary>
    /// This problem with framework-style "same" padding on both axes (output ⌈input / stride⌉), the
    /// odd row or column at the end (<see cref="SamePadding.Upper"/>, TensorFlow's "SAME") or the beginning.
    /// </summary>
    public ConvProblem WithSamePadding(SamePadding mode = SamePadding.Upper)
    {
        var (top, bottom) = Geometry.SamePaddingOf(InHeight, KernelHeight, StrideHeight, DilationHeight, mode);
        var (left, right) = Geometry.SamePaddingOf(InWidth, KernelWidth, StrideWidth, DilationWidth, mode);
        return this with { PadTop = top, PadBottom = bottom, PadLeft = left, PadRight = right };
    }

    internal override Problem WithBatch(int batch) => this with { Batch = batch };

    public override Operation Operation => Operation.Conv;

    public override void Validate()
    {
        RequireDirection();
        RequireRange(Batch, 1, nameof(Batch));
        RequireRange(InChannels, 1, nameof(InChannels));
        RequireRange(InHeight, 1, nameof(InHeight));
        RequireRange(InWidth, 1, nameof(InWidth));
        RequireRange(OutChannels, 1, nameof(OutChannels));
        RequireRange(KernelHeight, 1, nameof(KernelHeight));
        RequireRange(KernelWidth, 1, nameof(KernelWidth));
        RequireRange(StrideHeight, 1, nameof(StrideHeight));
        RequireRange(StrideWidth, 1, nameof(StrideWidth));
        RequireRange(PadTop, 0, nameof(PadTop));
        RequireRange(PadBottom, 0, nameof(PadBottom));
        RequireRange(PadLeft, 0, nameof(PadLeft));
        RequireRange(PadRight, 0, nameof(PadRight));
        RequireRange(DilationHeight, 1, nameof(DilationHeight));
        RequireRange(DilationWidth, 1, nameof(DilationWidth));
        RequireRange(Groups, 1, nameof(Groups));
        if (InChannels % Groups != 0)
            throw new ArgumentException($"Groups ({Groups}) must divide InChannels ({InChannels})", nameof(Groups));
        if (OutChannels % Groups != 0)
            throw new ArgumentException($"Groups ({Groups}) must divide OutChannels ({OutChannels})", nameof(Groups));
        if (!Enum.IsDefined(Activation))
            throw new ArgumentOutOfRangeException(nameof(Activation), Activation, "unknown activation");
        if (Activation == Activation.LeakyRelu && !float.IsFinite(ActivationAlpha))
            throw new ArgumentOutOfRangeException(nameof(ActivationAlpha), ActivationAlpha, "ActivationAlpha must be finite");
        if (Activation == Activation.LeakyRelu && !Direction.IsForward() && ActivationAlpha < 0)
            throw new ArgumentOutOfRangeException(nameof(ActivationAlpha), ActivationAlpha,
                "the backward passes of LeakyReLU need ActivationAlpha >= 0 (they read the output's sign)");
        if (OutHeight <= 0)
            throw new ArgumentException(
                $"KernelHeight {KernelHeight} with dilation {DilationHeight} spans more than the padded input height {PadTop} + {InHeight} + {PadBottom}",
                nameof(KernelHeight));
        if (OutWidth <= 0)
            throw new ArgumentException(
                $"KernelWidth {KernelWidth} with dilation {DilationWidth} spans more than the padded input width {PadLeft} + {InWidth} + {PadRight}",
                nameof(KernelWidth));
        RequireSpanLength(InputLength, nameof(InputLength));
        RequireSpanLength(OutputLength, nameof(OutputLength));
        RequireSpanLength(WeightsLength, nameof(WeightsLength));
    }

    /// <summary>
    /// Parses the benchdnn form, e.g. <c>g128mb1ic128ih56oc128kh3ph1n"mobilenet_dw"</c>, optionally
    /// preceded by <c>--attr-post-ops=relu</c> or <c>--attr-post-ops=relu:ALPHA</c> (LeakyReLU), by
    /// benchdnn's rules: a width not given repeats the height; mb is 2, stride 1, padding 0, dilation
    /// 0 (dense) and groups 1 by default; an output size (<c>oh</c>, <c>ow</c>) deduces the padding,
    /// bottom and right included, as benchdnn does. <c>_</c> is ignored; a key may repeat with the same value.
    /// </summary>
    /// <exception cref="UnsupportedProblemException">A 3-D or 1-D problem.</exception>
    /// <exception cref="FormatException">The text is not a valid convolution descriptor.</exception>
    public static ConvProblem Parse(string text) => FromDescriptor(Descriptor.ParseLine(text, Keys, Operation.Conv.Driver));

    /// <summary>Parses like <see cref="Parse(string)"/>, returning false with the reason instead of throwing.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out ConvProblem? problem, [NotNullWhen(false)] out string? error)
    {
        try
        {
            problem = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            problem = null;
            error = e.Message;
            return false;
        }
    }

    internal static ConvProblem FromDescriptor(Descriptor d)
    {
        d.RejectOptionsExcept("attr-post-ops", "dir");
        var (activation, alpha) = ParsePostOps(d);
        var (h, w) = SpatialAxes.Read(d, dilationKeys: true);
        return new ConvProblem
        {
            Groups = d.Get("g", 1),
            Batch = d.Get("mb", DefaultBatch),
            InChannels = d.Required("ic"),
            InHeight = h.Input,
            InWidth = w.Input,
            OutChannels = d.Required("oc"),
            KernelHeight = h.Kernel,
            KernelWidth = w.Kernel,
            StrideHeight = h.Stride,
            StrideWidth = w.Stride,
            PadTop = h.PadBefore,
            PadBottom = h.PadAfter,
            PadLeft = w.PadBefore,
            PadRight = w.PadAfter,
            DilationHeight = h.Dilation,
            DilationWidth = w.Dilation,
            Activation = activation,
            ActivationAlpha = alpha,
            Direction = d.Direction,
            Name = d.Name,
        };
    }

    /// <summary>benchdnn's post-op forms: <c>relu</c>, <c>relu:ALPHA</c> (LeakyReLU), <c>tanh</c>, <c>logistic</c>.</summary>
    internal static (Activation, float) ParsePostOps(Descriptor d)
    {
        if (!d.Options.TryGetValue("attr-post-ops", out var postOps)) return (Activation.None, 0f);
        var parts = postOps.Split(':');
        float alpha = 0f;
        if (parts.Length <= 2 && (parts.Length == 1 ||
                float.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out alpha) && float.IsFinite(alpha)) &&
            ActivationText.TryParse(parts[0], alpha, out var activation) && activation != Activation.None)
            return (activation, activation == Activation.LeakyRelu ? alpha : 0f);
        throw new FormatException($"'{d.Text}': --attr-post-ops={postOps} is not supported (use relu, relu:ALPHA, tanh or logistic)");
    }

    /// <summary>The post-op as benchdnn writes it, or null for none.</summary>
    internal static string? PostOpsText(Activation activation, float alpha) => activation switch
    {
        Activation.None => null,
        Activation.LeakyRelu => "relu:" + alpha.ToString(CultureInfo.InvariantCulture),
        _ => ActivationText.Name(activation),
    };

    /// <summary>
    /// The canonical benchdnn form: defaults omitted, width keys only where the width differs from
    /// the height, output sizes only for asymmetric padding (benchdnn deduces the bottom/right
    /// padding from them). Reads back to an equal problem, except that bottom/right padding no
    /// output reads is written as the padding actually read.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder(TextPrefix);
        if (PostOpsText(Activation, ActivationAlpha) is { } postOps) text.Append("--attr-post-ops=").Append(postOps).Append(' ');
        Descriptor.Append(text, "g", Groups, omitWhen: 1);
        text.Append("mb").Append(Batch.ToString(CultureInfo.InvariantCulture));
        text.Append("ic").Append(InChannels.ToString(CultureInfo.InvariantCulture));
        SpatialAxes.Write(text, HeightAxis, WidthAxis, dilation: true,
            betweenInputAndOutput: t => t.Append("oc").Append(OutChannels.ToString(CultureInfo.InvariantCulture)));
        Descriptor.AppendName(text, Name);
        return text.ToString();
    }
}

using System.Globalization;
using System.Text;

namespace HpcCnn.Problems;

/// <summary>
/// A forward 2-D convolution: NCHW input, KCRS weights (K = out channels, C = in channels per
/// group), optional bias, fused activation. Dilation is 1-based (1 = dense kernel) as in PyTorch;
/// the text form counts it from 0 as benchdnn does.
/// </summary>
/// <example><c>ConvProblem.Parse("mb1ic64ih56oc64kh3ph1")</c></example>
public sealed record ConvProblem : Problem
{
    internal static readonly HashSet<string> Keys =
        ["g", "mb", "ic", "ih", "iw", "oc", "oh", "ow", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw"];

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
    /// <summary>Zero padding on both sides (top and bottom).</summary>
    public int PadHeight { get; init; }
    /// <summary>Zero padding on both sides (left and right).</summary>
    public int PadWidth { get; init; }
    /// <summary>1-based: 1 is a dense kernel, 2 leaves one gap between taps.</summary>
    public int DilationHeight { get; init; } = 1;
    /// <summary>1-based: 1 is a dense kernel, 2 leaves one gap between taps.</summary>
    public int DilationWidth { get; init; } = 1;
    /// <summary>Channel groups; <see cref="Groups"/> = in = out channels is a depthwise convolution.</summary>
    public int Groups { get; init; } = 1;
    public Activation Activation { get; init; }
    /// <summary>Slope of <see cref="Activation.LeakyRelu"/>; ignored otherwise.</summary>
    public float ActivationAlpha { get; init; }

    public long OutHeight => Geometry.OutputSize(InHeight, KernelHeight, StrideHeight, PadHeight, DilationHeight);
    public long OutWidth => Geometry.OutputSize(InWidth, KernelWidth, StrideWidth, PadWidth, DilationWidth);
    public override long InputLength => (long)Batch * InChannels * InHeight * InWidth;
    public override long OutputLength => (long)Batch * OutChannels * OutHeight * OutWidth;
    /// <summary>Elements of the KCRS weights: out_channels · in_channels/groups · kh · kw.</summary>
    public long WeightsLength => (long)OutChannels * (InChannels / Math.Max(Groups, 1)) * KernelHeight * KernelWidth;
    /// <summary>Elements of the bias when one is given (one per output channel).</summary>
    public int BiasLength => OutChannels;
    /// <summary>Nominal FLOPs of one forward pass, 2·N·K·Ho·Wo·(C/G)·R·S.</summary>
    public long Flops => Geometry.ConvForwardFlops(this);

    public override void Validate()
    {
        RequireRange(Batch, 1, nameof(Batch));
        RequireRange(InChannels, 1, nameof(InChannels));
        RequireRange(InHeight, 1, nameof(InHeight));
        RequireRange(InWidth, 1, nameof(InWidth));
        RequireRange(OutChannels, 1, nameof(OutChannels));
        RequireRange(KernelHeight, 1, nameof(KernelHeight));
        RequireRange(KernelWidth, 1, nameof(KernelWidth));
        RequireRange(StrideHeight, 1, nameof(StrideHeight));
        RequireRange(StrideWidth, 1, nameof(StrideWidth));
        RequireRange(PadHeight, 0, nameof(PadHeight));
        RequireRange(PadWidth, 0, nameof(PadWidth));
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
        if (OutHeight <= 0)
            throw new ArgumentException(
                $"KernelHeight {KernelHeight} with dilation {DilationHeight} spans more than the padded input height {InHeight} + 2*{PadHeight}",
                nameof(KernelHeight));
        if (OutWidth <= 0)
            throw new ArgumentException(
                $"KernelWidth {KernelWidth} with dilation {DilationWidth} spans more than the padded input width {InWidth} + 2*{PadWidth}",
                nameof(KernelWidth));
        RequireSpanLength(InputLength, nameof(InputLength));
        RequireSpanLength(OutputLength, nameof(OutputLength));
        RequireSpanLength(WeightsLength, nameof(WeightsLength));
    }

    /// <summary>
    /// Parses the benchdnn form, e.g. <c>g128mb1ic128ih56oc128kh3ph1n"mobilenet_dw"</c>, optionally
    /// preceded by <c>--attr-post-ops=relu</c> or <c>--attr-post-ops=relu:ALPHA</c> (LeakyReLU).
    /// Missing width repeats height; missing mb is 2 (benchdnn's default); stride 1, padding 0,
    /// dilation 0 (dense) and groups 1 by default.
    /// </summary>
    /// <exception cref="FormatException">The text is not a valid convolution descriptor.</exception>
    public static ConvProblem Parse(string text) => FromDescriptor(Descriptor.ParseLine(text, Keys));

    /// <summary>Parses like <see cref="Parse(string)"/>, returning false with the reason instead of throwing.</summary>
    public static bool TryParse(string text, out ConvProblem? problem, out string? error)
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
        d.RejectOptionsExcept("attr-post-ops");
        var (activation, alpha) = ParsePostOps(d);
        int ih = d.Required("ih"), kh = d.Required("kh");
        var problem = new ConvProblem
        {
            Groups = d.Get("g", 1),
            Batch = d.Get("mb", DefaultBatch),
            InChannels = d.Required("ic"),
            InHeight = ih,
            InWidth = d.Get("iw", ih),
            OutChannels = d.Required("oc"),
            KernelHeight = kh,
            KernelWidth = d.Get("kw", kh),
            StrideHeight = d.Get("sh", 1),
            StrideWidth = d.Get("sw", d.Get("sh", 1)),
            PadHeight = d.Get("ph", 0),
            PadWidth = d.Get("pw", d.Get("ph", 0)),
            DilationHeight = d.Get("dh", 0) + 1,
            DilationWidth = d.Get("dw", d.Get("dh", 0)) + 1,
            Activation = activation,
            ActivationAlpha = alpha,
            Name = d.Name,
        };
        d.CheckOutputSize("oh", problem.OutHeight);
        d.CheckOutputSize("ow", problem.OutWidth);
        return problem;
    }

    private static (Activation, float) ParsePostOps(Descriptor d)
    {
        if (!d.Options.TryGetValue("attr-post-ops", out var postOps)) return (Activation.None, 0f);
        if (postOps == "relu") return (Activation.Relu, 0f);
        if (postOps.StartsWith("relu:", StringComparison.Ordinal) &&
            float.TryParse(postOps.AsSpan(5), NumberStyles.Float, CultureInfo.InvariantCulture, out float alpha) &&
            float.IsFinite(alpha))
            return (Activation.LeakyRelu, alpha);
        throw new FormatException($"'{d.Text}': --attr-post-ops={postOps} is not supported (use relu or relu:ALPHA)");
    }

    /// <summary>The canonical benchdnn form: defaults omitted, width keys only where they differ from height.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        if (Activation == Activation.Relu) text.Append("--attr-post-ops=relu ");
        if (Activation == Activation.LeakyRelu)
            text.Append("--attr-post-ops=relu:").Append(ActivationAlpha.ToString(CultureInfo.InvariantCulture)).Append(' ');
        Descriptor.Append(text, "g", Groups, omitWhen: 1);
        text.Append("mb").Append(Batch.ToString(CultureInfo.InvariantCulture));
        text.Append("ic").Append(InChannels.ToString(CultureInfo.InvariantCulture));
        Descriptor.AppendPair(text, "ih", InHeight, "iw", InWidth, omitWhen: -1);
        text.Append("oc").Append(OutChannels.ToString(CultureInfo.InvariantCulture));
        Descriptor.AppendPair(text, "kh", KernelHeight, "kw", KernelWidth, omitWhen: -1);
        Descriptor.AppendPair(text, "sh", StrideHeight, "sw", StrideWidth, omitWhen: 1);
        Descriptor.AppendPair(text, "ph", PadHeight, "pw", PadWidth, omitWhen: 0);
        Descriptor.AppendPair(text, "dh", DilationHeight - 1, "dw", DilationWidth - 1, omitWhen: 0);
        Descriptor.AppendName(text, Name);
        return text.ToString();
    }
}

using System.Globalization;
using System.Text;

namespace HpcCnn.Problems;

/// <summary>
/// A forward 2-D pooling over NCHW data. Each padding is smaller than the kernel along its axis
/// (ONNX Runtime's rule), so every window holds at least one image element. Global average pooling
/// is <see cref="GlobalAverage"/>.
/// </summary>
/// <example><c>PoolProblem.Parse("--alg=max mb1ic64ih112kh3sh2ph1")</c></example>
public sealed record PoolProblem : Problem
{
    internal static readonly HashSet<string> Keys = ["mb", "ic", .. SpatialAxes.Keys];

    public PoolAlgorithm Algorithm { get; init; }
    public int Batch { get; init; } = 1;
    public int Channels { get; init; }
    public int InHeight { get; init; }
    public int InWidth { get; init; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int StrideHeight { get; init; } = 1;
    public int StrideWidth { get; init; } = 1;
    /// <summary>Padding rows above the image (−∞ for max, zeros for averages).</summary>
    public int PadTop { get; init; }
    /// <summary>Padding rows below the image.</summary>
    public int PadBottom { get; init; }
    /// <summary>Padding columns left of the image.</summary>
    public int PadLeft { get; init; }
    /// <summary>Padding columns right of the image.</summary>
    public int PadRight { get; init; }

    /// <summary>Sets <see cref="PadTop"/> and <see cref="PadBottom"/> to the same value (the common, symmetric case).</summary>
    public int PadHeight { init { PadTop = value; PadBottom = value; } }

    /// <summary>Sets <see cref="PadLeft"/> and <see cref="PadRight"/> to the same value (the common, symmetric case).</summary>
    public int PadWidth { init { PadLeft = value; PadRight = value; } }

    public long OutHeight => HeightAxis.Output;
    public long OutWidth => WidthAxis.Output;
    public override long InputLength => Geometry.SaturatingProduct(Batch, Channels, InHeight, InWidth);
    public override long OutputLength => Geometry.SaturatingProduct(Batch, Channels, OutHeight, OutWidth);

    /// <summary>Elements of the int32 workspace: each window's argmax for max pooling in training (FWD_D, BWD_D), else none.</summary>
    public long WorkspaceLength => Algorithm == PoolAlgorithm.Max && Direction != Direction.ForwardInference ? OutputLength : 0;

    internal Axis HeightAxis => new(InHeight, KernelHeight, StrideHeight, PadTop, PadBottom, 1);
    internal Axis WidthAxis => new(InWidth, KernelWidth, StrideWidth, PadLeft, PadRight, 1);

    /// <summary>Average over each whole image: one output per (image, channel).</summary>
    public static PoolProblem GlobalAverage(int batch, int channels, int height, int width) => new()
    {
        Algorithm = PoolAlgorithm.AverageExcludePadding,
        Batch = batch,
        Channels = channels,
        InHeight = height,
        InWidth = width,
        KernelHeight = height,
        KernelWidth = width,
    };

    /// <summary>This problem with framework-style "same" padding (output ⌈input / stride⌉); see <see cref="ConvProblem.WithSamePadding"/>.</summary>
    public PoolProblem WithSamePadding(SamePadding mode = SamePadding.Upper)
    {
        var (top, bottom) = Geometry.SamePaddingOf(InHeight, KernelHeight, StrideHeight, 1, mode);
        var (left, right) = Geometry.SamePaddingOf(InWidth, KernelWidth, StrideWidth, 1, mode);
        return this with { PadTop = top, PadBottom = bottom, PadLeft = left, PadRight = right };
    }

    internal override Problem WithBatch(int batch) => this with { Batch = batch };

    public override Operation Operation => Operation.Pool;

    public override void Validate()
    {
        RequireDirection();
        if (!Enum.IsDefined(Algorithm)) throw new ArgumentOutOfRangeException(nameof(Algorithm), Algorithm, "unknown pooling algorithm");
        RequireRange(Batch, 1, nameof(Batch));
        RequireRange(Channels, 1, nameof(Channels));
        RequireRange(InHeight, 1, nameof(InHeight));
        RequireRange(InWidth, 1, nameof(InWidth));
        RequireRange(KernelHeight, 1, nameof(KernelHeight));
        RequireRange(KernelWidth, 1, nameof(KernelWidth));
        RequireRange(StrideHeight, 1, nameof(StrideHeight));
        RequireRange(StrideWidth, 1, nameof(StrideWidth));
        RequireRange(PadTop, 0, nameof(PadTop));
        RequireRange(PadBottom, 0, nameof(PadBottom));
        RequireRange(PadLeft, 0, nameof(PadLeft));
        RequireRange(PadRight, 0, nameof(PadRight));
        RequirePadBelowKernel(PadTop, nameof(PadTop), KernelHeight, nameof(KernelHeight));
        RequirePadBelowKernel(PadBottom, nameof(PadBottom), KernelHeight, nameof(KernelHeight));
        RequirePadBelowKernel(PadLeft, nameof(PadLeft), KernelWidth, nameof(KernelWidth));
        RequirePadBelowKernel(PadRight, nameof(PadRight), KernelWidth, nameof(KernelWidth));
        if (OutHeight <= 0)
            throw new ArgumentException($"KernelHeight {KernelHeight} is larger than the padded input height {PadTop} + {InHeight} + {PadBottom}", nameof(KernelHeight));
        if (OutWidth <= 0)
            throw new ArgumentException($"KernelWidth {KernelWidth} is larger than the padded input width {PadLeft} + {InWidth} + {PadRight}", nameof(KernelWidth));
        RequireSpanLength(InputLength, nameof(InputLength));
        RequireSpanLength(OutputLength, nameof(OutputLength));
    }

    private static void RequirePadBelowKernel(int pad, string padName, int kernel, string kernelName)
    {
        if (pad >= kernel)
            throw new ArgumentOutOfRangeException(padName, pad,
                $"{padName} ({pad}) must be smaller than {kernelName} ({kernel}) so every window holds an image element");
    }

    /// <summary>
    /// Parses the benchdnn form, e.g. <c>--alg=avg_np mb1ic64ih112kh3sh2ph1n"avgpool"</c>, by the rules
    /// of <see cref="ConvProblem.Parse"/>. The algorithm is <c>max</c> (the default), <c>avg_np</c> or <c>avg_p</c>.
    /// </summary>
    /// <exception cref="UnsupportedProblemException">A 3-D, 1-D or dilated pooling.</exception>
    /// <exception cref="FormatException">The text is not a valid pooling descriptor.</exception>
    public static PoolProblem Parse(string text) => FromDescriptor(Descriptor.ParseLine(text, ConvProblem.Keys, Operation.Pool.Driver));

    internal static PoolProblem FromDescriptor(Descriptor d)
    {
        d.RejectKeys("pooling", "g", "oc");
        d.RejectOptionsExcept("alg", "dir");
        if (d.Get("dh", 0) != 0 || d.Get("dw", 0) != 0)
            throw new UnsupportedProblemException($"'{d.Text}': dilated pooling (dh, dw) is not supported");
        var (h, w) = SpatialAxes.Read(d, dilationKeys: false);
        return new PoolProblem
        {
            Algorithm = d.Options.TryGetValue("alg", out var alg) ? ParseAlgorithm(alg, d.Text) : PoolAlgorithm.Max,
            Batch = d.Get("mb", ConvProblem.DefaultBatch),
            Channels = d.Required("ic"),
            InHeight = h.Input,
            InWidth = w.Input,
            KernelHeight = h.Kernel,
            KernelWidth = w.Kernel,
            StrideHeight = h.Stride,
            StrideWidth = w.Stride,
            PadTop = h.PadBefore,
            PadBottom = h.PadAfter,
            PadLeft = w.PadBefore,
            PadRight = w.PadAfter,
            Direction = d.Direction,
            Name = d.Name,
        };
    }

    private static PoolAlgorithm ParseAlgorithm(string alg, string text) => alg.ToLowerInvariant() switch
    {
        "max" or "pooling_max" => PoolAlgorithm.Max,
        "avg_p" or "pooling_avg_include_padding" => PoolAlgorithm.AverageIncludePadding,
        "avg_np" or "pooling_avg_exclude_padding" or "pooling_avg" => PoolAlgorithm.AverageExcludePadding,
        _ => throw new FormatException($"'{text}': unknown pooling algorithm --alg={alg} (use max, avg_np or avg_p)"),
    };

    /// <summary>benchdnn's name for the algorithm.</summary>
    public static string AlgorithmName(PoolAlgorithm algorithm) => algorithm switch
    {
        PoolAlgorithm.Max => "max",
        PoolAlgorithm.AverageIncludePadding => "avg_p",
        PoolAlgorithm.AverageExcludePadding => "avg_np",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown pooling algorithm"),
    };

    /// <summary>The canonical benchdnn form, as <see cref="ConvProblem.ToString"/> writes it.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(TextPrefix);
        text.Append("--alg=").Append(AlgorithmName(Algorithm)).Append(' ');
        text.Append("mb").Append(Batch.ToString(CultureInfo.InvariantCulture));
        text.Append("ic").Append(Channels.ToString(CultureInfo.InvariantCulture));
        SpatialAxes.Write(text, HeightAxis, WidthAxis, dilation: false);
        Descriptor.AppendName(text, Name);
        return text.ToString();
    }
}

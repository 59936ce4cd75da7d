using System.Globalization;
using System.Text;

namespace HpcCnn.Problems;

/// <summary>
/// A forward 2-D pooling over NCHW data. Padding is at most half the kernel, so every window
/// touches the image. Global average pooling is <see cref="GlobalAverage"/>.
/// </summary>
/// <example><c>PoolProblem.Parse("--alg=max mb1ic64ih112kh3sh2ph1")</c></example>
public sealed record PoolProblem : Problem
{
    internal static readonly HashSet<string> Keys = ["mb", "ic", "ih", "iw", "oh", "ow", "kh", "kw", "sh", "sw", "ph", "pw"];

    public PoolAlgorithm Algorithm { get; init; }
    public int Batch { get; init; } = 1;
    public int Channels { get; init; }
    public int InHeight { get; init; }
    public int InWidth { get; init; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int StrideHeight { get; init; } = 1;
    public int StrideWidth { get; init; } = 1;
    public int PadHeight { get; init; }
    public int PadWidth { get; init; }

    public long OutHeight => Geometry.OutputSize(InHeight, KernelHeight, StrideHeight, PadHeight, 1);
    public long OutWidth => Geometry.OutputSize(InWidth, KernelWidth, StrideWidth, PadWidth, 1);
    public override long InputLength => (long)Batch * Channels * InHeight * InWidth;
    public override long OutputLength => (long)Batch * Channels * OutHeight * OutWidth;

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

    public override void Validate()
    {
        if (!Enum.IsDefined(Algorithm)) throw new ArgumentOutOfRangeException(nameof(Algorithm), Algorithm, "unknown pooling algorithm");
        RequireRange(Batch, 1, nameof(Batch));
        RequireRange(Channels, 1, nameof(Channels));
        RequireRange(InHeight, 1, nameof(InHeight));
        RequireRange(InWidth, 1, nameof(InWidth));
        RequireRange(KernelHeight, 1, nameof(KernelHeight));
        RequireRange(KernelWidth, 1, nameof(KernelWidth));
        RequireRange(StrideHeight, 1, nameof(StrideHeight));
        RequireRange(StrideWidth, 1, nameof(StrideWidth));
        RequireRange(PadHeight, 0, nameof(PadHeight));
        RequireRange(PadWidth, 0, nameof(PadWidth));
        if (PadHeight > KernelHeight / 2)
            throw new ArgumentOutOfRangeException(nameof(PadHeight), PadHeight,
                $"PadHeight ({PadHeight}) must be at most half of KernelHeight ({KernelHeight}) so every window touches the image");
        if (PadWidth > KernelWidth / 2)
            throw new ArgumentOutOfRangeException(nameof(PadWidth), PadWidth,
                $"PadWidth ({PadWidth}) must be at most half of KernelWidth ({KernelWidth}) so every window touches the image");
        if (OutHeight <= 0)
            throw new ArgumentException($"KernelHeight {KernelHeight} is larger than the padded input height {InHeight} + 2*{PadHeight}", nameof(KernelHeight));
        if (OutWidth <= 0)
            throw new ArgumentException($"KernelWidth {KernelWidth} is larger than the padded input width {InWidth} + 2*{PadWidth}", nameof(KernelWidth));
        RequireSpanLength(InputLength, nameof(InputLength));
        RequireSpanLength(OutputLength, nameof(OutputLength));
    }

    /// <summary>
    /// Parses the benchdnn form, e.g. <c>--alg=avg_np mb1ic64ih112kh3sh2ph1n"avgpool"</c>. The
    /// algorithm is <c>max</c> (the default), <c>avg_np</c> or <c>avg_p</c>.
    /// </summary>
    /// <exception cref="FormatException">The text is not a valid pooling descriptor.</exception>
    public static PoolProblem Parse(string text) => FromDescriptor(Descriptor.ParseLine(text, ConvProblem.Keys));

    internal static PoolProblem FromDescriptor(Descriptor d)
    {
        d.RejectKeys("pooling", "g", "oc", "dh", "dw");
        d.RejectOptionsExcept("alg");
        int ih = d.Required("ih"), kh = d.Required("kh");
        var problem = new PoolProblem
        {
            Algorithm = d.Options.TryGetValue("alg", out var alg) ? ParseAlgorithm(alg, d.Text) : PoolAlgorithm.Max,
            Batch = d.Get("mb", ConvProblem.DefaultBatch),
            Channels = d.Required("ic"),
            InHeight = ih,
            InWidth = d.Get("iw", ih),
            KernelHeight = kh,
            KernelWidth = d.Get("kw", kh),
            StrideHeight = d.Get("sh", 1),
            StrideWidth = d.Get("sw", d.Get("sh", 1)),
            PadHeight = d.Get("ph", 0),
            PadWidth = d.Get("pw", d.Get("ph", 0)),
            Name = d.Name,
        };
        d.CheckOutputSize("oh", problem.OutHeight);
        d.CheckOutputSize("ow", problem.OutWidth);
        return problem;
    }

    private static PoolAlgorithm ParseAlgorithm(string alg, string text) => alg switch
    {
        "max" or "pooling_max" => PoolAlgorithm.Max,
        "avg_p" or "pooling_avg_include_padding" => PoolAlgorithm.AverageIncludePadding,
        "avg_np" or "pooling_avg_exclude_padding" => PoolAlgorithm.AverageExcludePadding,
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

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("--alg=").Append(AlgorithmName(Algorithm)).Append(' ');
        text.Append("mb").Append(Batch.ToString(CultureInfo.InvariantCulture));
        text.Append("ic").Append(Channels.ToString(CultureInfo.InvariantCulture));
        Descriptor.AppendPair(text, "ih", InHeight, "iw", InWidth, omitWhen: -1);
        Descriptor.AppendPair(text, "kh", KernelHeight, "kw", KernelWidth, omitWhen: -1);
        Descriptor.AppendPair(text, "sh", StrideHeight, "sw", StrideWidth, omitWhen: 1);
        Descriptor.AppendPair(text, "ph", PadHeight, "pw", PadWidth, omitWhen: 0);
        Descriptor.AppendName(text, Name);
        return text.ToString();
    }
}

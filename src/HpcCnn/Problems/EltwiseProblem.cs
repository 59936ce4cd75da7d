using System.Globalization;
using System.Text;

namespace HpcCnn.Problems;

/// <summary>
/// An activation over <see cref="Length"/> values: forward (y = f(x)) or backward data
/// (dx = f'(from y)·dy). In benchdnn's eltwise form: <c>--alg=relu --alpha=0.25 64x6x28x28</c>.
/// </summary>
public sealed record EltwiseProblem : Problem
{
    public Activation Activation { get; init; }
    /// <summary>Slope of <see cref="Activation.LeakyRelu"/> (at least 0 for the backward pass); ignored otherwise.</summary>
    public float Alpha { get; init; }
    public long Length { get; init; }

    public override long InputLength => Length;
    public override long OutputLength => Length;
    public override Operation Operation => Operation.Eltwise;

    internal override Problem WithBatch(int batch) => this;

    public override void Validate()
    {
        RequireDirection();
        if (!Enum.IsDefined(Activation)) throw new ArgumentOutOfRangeException(nameof(Activation), Activation, "unknown activation");
        if (Activation == Activation.LeakyRelu && !float.IsFinite(Alpha))
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha must be finite");
        if (Activation == Activation.LeakyRelu && Direction == Direction.BackwardData && Alpha < 0)
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "the backward pass of LeakyReLU needs Alpha >= 0 (it reads the output's sign)");
        RequireRange(Length, 0, nameof(Length));
        RequireSpanLength(Length, nameof(Length));
    }

    /// <summary>Parses <c>[--eltwise] [--dir=D] [--alg=A] [--alpha=X] DIMS[_n"name"]</c>, DIMS being sizes joined by <c>x</c>.</summary>
    /// <exception cref="FormatException">The text is not an elementwise problem.</exception>
    public static EltwiseProblem Parse(string text)
    {
        var options = new Dictionary<string, string>();
        string? dims = null;
        foreach (var token in Descriptor.Tokenize(text))
        {
            if (token == "--" + Operation.Eltwise.Driver) continue;
            if (token.StartsWith("--", StringComparison.Ordinal)) Descriptor.AddOption(options, token, text);
            else if (dims is null) dims = token;
            else throw new FormatException($"'{text}': more than one descriptor ('{dims}' and '{token}')");
        }
        if (dims is null) throw new FormatException($"'{text}': no dimensions");
        return FromText(dims, options);
    }

    internal static EltwiseProblem FromText(string dims, IReadOnlyDictionary<string, string> options)
    {
        foreach (var key in options.Keys)
            if (key is not ("alg" or "alpha" or "dir"))
                throw new FormatException($"'{dims}': option --{key} does not apply to eltwise (allowed: --alg, --alpha, --dir)");
        var (sizes, name) = Descriptor.ParseDims(dims);
        long length = 1;
        foreach (long size in sizes) length = length <= int.MaxValue ? length * size : length;
        float alpha = 0f;
        if (options.TryGetValue("alpha", out var alphaText) &&
            !float.TryParse(alphaText, NumberStyles.Float, CultureInfo.InvariantCulture, out alpha))
            throw new FormatException($"'{dims}': --alpha={alphaText} is not a number");
        var activation = Activation.Relu;
        if (options.TryGetValue("alg", out var alg) && !ActivationText.TryParse(alg, alpha, out activation))
            throw new FormatException($"'{dims}': unknown activation --alg={alg} (use relu, tanh, logistic or linear)");
        if (!options.ContainsKey("alg") && alpha != 0f) activation = Activation.LeakyRelu;
        return new EltwiseProblem
        {
            Activation = activation,
            Alpha = activation == Activation.LeakyRelu ? alpha : 0f,
            Length = length,
            Direction = options.TryGetValue("dir", out var dir) ? DirectionText.Parse(dir) : Direction.ForwardInference,
            Name = name,
        };
    }

    public override string ToString()
    {
        var text = new StringBuilder(TextPrefix);
        text.Append("--alg=").Append(ActivationText.Name(Activation)).Append(' ');
        if (Activation == Activation.LeakyRelu) text.Append("--alpha=").Append(Alpha.ToString(CultureInfo.InvariantCulture)).Append(' ');
        text.Append(Length.ToString(CultureInfo.InvariantCulture));
        Descriptor.AppendName(text, Name);
        return text.ToString();
    }
}

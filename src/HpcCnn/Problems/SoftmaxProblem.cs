using System.Globalization;
using System.Text;

namespace HpcCnn.Problems;

/// <summary>
/// Softmax over the <see cref="Classes"/> of each of <see cref="Batch"/> rows, fused with
/// categorical cross-entropy in training: forward inference gives the probabilities; forward
/// training also the mean loss over the batch for int32 labels; backward data the gradient of that
/// loss with respect to the logits, (p − onehot(label)) / Batch. In benchdnn's softmax form:
/// <c>--softmax --dir=FWD_D 64x10</c> (the softmax axis is the last, the classes).
/// </summary>
public sealed record SoftmaxProblem : Problem
{
    public int Batch { get; init; } = 2;
    public int Classes { get; init; }

    public override long InputLength => (long)Batch * Classes;
    public override long OutputLength => (long)Batch * Classes;
    public override Operation Operation => Operation.Softmax;

    internal override Problem WithBatch(int batch) => this with { Batch = batch };

    public override void Validate()
    {
        RequireDirection();
        RequireRange(Batch, 1, nameof(Batch));
        RequireRange(Classes, 1, nameof(Classes));
        RequireSpanLength(InputLength, "Batch * Classes");
    }

    /// <summary>Parses <c>[--softmax] [--dir=D] [--alg=softmax] BATCHxCLASSES[n"name"]</c>.</summary>
    /// <exception cref="FormatException">The text is not a softmax problem.</exception>
    public static SoftmaxProblem Parse(string text)
    {
        var options = new Dictionary<string, string>();
        string? dims = null;
        foreach (var token in Descriptor.Tokenize(text))
        {
            if (token == "--" + Operation.Softmax.Driver) continue;
            if (token.StartsWith("--", StringComparison.Ordinal)) Descriptor.AddOption(options, token, text);
            else if (dims is null) dims = token;
            else throw new FormatException($"'{text}': more than one descriptor ('{dims}' and '{token}')");
        }
        if (dims is null) throw new FormatException($"'{text}': no dimensions");
        return FromText(dims, options);
    }

    internal static SoftmaxProblem FromText(string dims, IReadOnlyDictionary<string, string> options)
    {
        foreach (var (key, value) in options)
        {
            if (key is not ("alg" or "dir"))
                throw new FormatException($"'{dims}': option --{key} does not apply to softmax (allowed: --alg, --dir)");
            if (key == "alg" && !value.Equals("softmax", StringComparison.OrdinalIgnoreCase))
                throw new FormatException($"'{dims}': --alg={value}: HpcCnn's softmax is SOFTMAX fused with cross-entropy (no LOGSOFTMAX)");
        }
        var (sizes, name) = Descriptor.ParseDims(dims);
        if (sizes.Length != 2) throw new FormatException($"'{dims}': softmax takes BATCHxCLASSES, e.g. 64x10");
        return new SoftmaxProblem
        {
            Batch = (int)sizes[0],
            Classes = (int)sizes[1],
            Direction = options.TryGetValue("dir", out var dir) ? DirectionText.Parse(dir) : Direction.ForwardInference,
            Name = name,
        };
    }

    public override string ToString()
    {
        var text = new StringBuilder(TextPrefix);
        text.Append(Batch.ToString(CultureInfo.InvariantCulture)).Append('x').Append(Classes.ToString(CultureInfo.InvariantCulture));
        Descriptor.AppendName(text, Name);
        return text.ToString();
    }
}

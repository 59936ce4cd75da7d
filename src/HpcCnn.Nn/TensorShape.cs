using System.Globalization;

namespace HpcCnn.Nn;

/// <summary>The shape of one sample: channels × height × width (NCHW without the batch).</summary>
public readonly record struct TensorShape(int Channels, int Height, int Width)
{
    /// <summary>Elements of one sample.</summary>
    public long Size => (long)Channels * Height * Width;

    public override string ToString() => $"{Channels}x{Height}x{Width}";

    /// <summary>Parses <c>CxHxW</c>, e.g. <c>1x28x28</c>.</summary>
    /// <exception cref="FormatException">Not three positive integers separated by 'x'.</exception>
    public static TensorShape Parse(string text)
    {
        var parts = text.Split('x');
        if (parts.Length == 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int c) && c > 0
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h) && h > 0
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int w) && w > 0)
            return new TensorShape(c, h, w);
        throw new FormatException($"'{text}' is not a shape CxHxW of positive integers (e.g. 1x28x28)");
    }
}

using System.Text;

namespace HpcCnn.Problems;

/// <summary>
/// One spatial axis of a problem: input size, kernel, stride, padding before (top/left) and after
/// (bottom/right), and 1-based dilation.
/// </summary>
internal readonly record struct Axis(int Input, int Kernel, int Stride, int PadBefore, int PadAfter, int Dilation)
{
    public long Output => Geometry.OutputSize(Input, Kernel, Stride, PadBefore, PadAfter, Dilation);

    /// <summary>The padding after the input that the last output actually reads (less where a stride skips the rest).</summary>
    public long EffectivePadAfter => (Output - 1) * Stride + (long)Dilation * (Kernel - 1) + 1 - Input - PadBefore;
}

/// <summary>
/// The height and width axes in benchdnn's text form, read and written by its rules
/// (oneDNN <c>tests/benchdnn/conv/conv_aux.cpp</c>, <c>str2desc</c>, and <c>sanitize_desc</c>):
/// <list type="bullet">
/// <item>An axis is given when any of its keys is (for the width: <c>iw kw ow dw</c>, a stride other
/// than 1 or a padding of 1 or more); then its input and kernel sizes are required. A width not
/// given repeats the whole height axis, output size and padding included.</item>
/// <item>Without the output size, the padding (0 when absent) is on both sides.</item>
/// <item>With the output size and without the padding, the padding before is
/// ((o − 1)·s − i + (k − 1)·(d + 1) + 1) / 2, rounded toward zero.</item>
/// <item>With the output size, the padding after is (o − 1)·s − i + (k − 1)·(d + 1) + 1 − p: one extra
/// row or column at the end for TensorFlow's "same" padding, for example.</item>
/// </list>
/// Depth keys (<c>id kd od sd pd dd</c>) make a 3-D problem and a width without a height a 1-D one;
/// both are refused as unsupported. Dilations are counted from 0 in the text, from 1 in <see cref="Axis"/>.
/// </summary>
internal static class SpatialAxes
{
    /// <summary>The keys of the spatial axes (depth included, so that 3-D lines are recognised and refused).</summary>
    public static readonly string[] Keys =
        ["id", "ih", "iw", "od", "oh", "ow", "kd", "kh", "kw", "sd", "sh", "sw", "pd", "ph", "pw", "dd", "dh", "dw"];

    /// <summary>Reads both axes; <paramref name="dilationKeys"/> is false for pooling, whose no-axis test ignores dh/dw as benchdnn's does.</summary>
    /// <exception cref="UnsupportedProblemException">A 3-D or 1-D problem.</exception>
    /// <exception cref="FormatException">A required key is missing, or the output size cannot be reached.</exception>
    public static (Axis Height, Axis Width) Read(Descriptor d, bool dilationKeys)
    {
        if (IsGiven(d, "d", dilationKeys))
            throw new UnsupportedProblemException($"'{d.Text}': a 3-D problem (id, kd, od, sd, pd or dd given); HpcCnn runs 2-D problems only");
        bool height = IsGiven(d, "h", dilationKeys), width = IsGiven(d, "w", dilationKeys);
        if (!height && width)
            throw new UnsupportedProblemException($"'{d.Text}': a 1-D problem (width keys without ih and kh); HpcCnn runs 2-D problems only");
        if (!height) throw new FormatException($"'{d.Text}': required parameter 'ih' is missing (and 'kh': a problem needs a spatial size)");
        var h = ReadAxis(d, 'h', required: "ih and kh are required");
        var w = width
            ? ReadAxis(d, 'w', required: "once any width parameter is given (iw, kw, ow, dw, sw other than 1, pw of 1 or more), iw and kw are required too, as in benchdnn")
            : h;
        return (h, w);
    }

    /// <summary>
    /// Writes the axes in canonical form: input keys, output keys (only for an axis padded
    /// asymmetrically), kernel, stride, padding, dilation; the width keys only where the width
    /// differs from the height, and then iw and kw always.
    /// </summary>
    public static void Write(StringBuilder text, Axis h, Axis w, bool dilation, Action<StringBuilder>? betweenInputAndOutput = null)
    {
        bool widthKeys = !SameAxis(h, w);
        Append(text, "ih", h.Input);
        if (widthKeys) Append(text, "iw", w.Input);
        betweenInputAndOutput?.Invoke(text);
        if (!Symmetric(h)) Append(text, "oh", h.Output);
        if (widthKeys && !Symmetric(w)) Append(text, "ow", w.Output);
        Append(text, "kh", h.Kernel);
        if (widthKeys) Append(text, "kw", w.Kernel);
        if (h.Stride != 1) Append(text, "sh", h.Stride);
        if (widthKeys && w.Stride != 1) Append(text, "sw", w.Stride);
        // With the output size written, an absent padding would be deduced, not taken as 0.
        if (h.PadBefore != 0 || !Symmetric(h)) Append(text, "ph", h.PadBefore);
        if (widthKeys && (w.PadBefore != 0 || !Symmetric(w))) Append(text, "pw", w.PadBefore);
        if (dilation && h.Dilation != 1) Append(text, "dh", h.Dilation - 1);
        if (dilation && widthKeys && w.Dilation != 1) Append(text, "dw", w.Dilation - 1);
    }

    private static bool Symmetric(Axis a) => a.PadAfter == a.PadBefore;

    private static bool SameAxis(Axis a, Axis b) =>
        a.Input == b.Input && a.Kernel == b.Kernel && a.Stride == b.Stride && a.PadBefore == b.PadBefore &&
        a.PadAfter == b.PadAfter && a.Dilation == b.Dilation;

    private static void Append(StringBuilder text, string key, long value) =>
        text.Append(key).Append(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>benchdnn's test for a given axis: a size, output or dilation key, a stride other than 1, or a padding of 1 or more.</summary>
    private static bool IsGiven(Descriptor d, string axis, bool dilationKeys) =>
        d.Get("i" + axis, 0) != 0 || d.Get("k" + axis, 0) != 0 || d.Get("o" + axis, 0) != 0 ||
        (dilationKeys && d.Get("d" + axis, 0) != 0) || d.Get("s" + axis, 1) != 1 || d.Get("p" + axis, 0) >= 1;

    private static Axis ReadAxis(Descriptor d, char axis, string required)
    {
        string Key(char kind) => $"{kind}{axis}";
        int input = d.Find(Key('i')) is int i and > 0 ? i : throw new FormatException($"'{d.Text}': required parameter '{Key('i')}' is missing ({required})");
        int kernel = d.Find(Key('k')) is int k and > 0 ? k : throw new FormatException($"'{d.Text}': required parameter '{Key('k')}' is missing ({required})");
        int stride = d.Get(Key('s'), 1), dilation = d.Get(Key('d'), 0) + 1;
        int? pad = d.Find(Key('p')), output = d.Find(Key('o'));
        if (output is not int o || o == 0) return new Axis(input, kernel, stride, pad ?? 0, pad ?? 0, dilation);
        if (stride <= 0) return new Axis(input, kernel, stride, pad ?? 0, pad ?? 0, dilation); // validation names the stride

        long span = (long)(kernel - 1) * dilation + 1, reach = (long)(o - 1) * stride + span - input;
        string axisName = axis == 'h' ? "bottom" : "right";
        long before = pad ?? reach / 2; // C's division, toward zero, as benchdnn's compute_pad
        if (before < 0)
            throw new FormatException($"'{d.Text}': {Key('o')}{o} would need negative padding: the deduced {Key('p')} = ((o{axis}-1)*s{axis} - i{axis} + (k{axis}-1)*(d{axis}+1) + 1) / 2 = {before}");
        long after = reach - before;
        if (after < 0)
        {
            // Input rows or columns a stride never reaches: no padding after, if that gives the output size.
            if (Geometry.OutputSize(input, kernel, stride, before, 0, dilation) != o)
                throw new FormatException(
                    $"'{d.Text}': {Key('o')}{o} would need {axisName} padding (o{axis}-1)*s{axis} - i{axis} + (k{axis}-1)*(d{axis}+1) + 1 - p{axis} = {after}; negative padding is not supported");
            after = 0;
        }
        if (before > int.MaxValue || after > int.MaxValue)
            throw new FormatException($"'{d.Text}': the padding deduced from {Key('o')}{o} is larger than {int.MaxValue}");
        return new Axis(input, kernel, stride, (int)before, (int)after, dilation);
    }
}

/// <summary>
/// A problem line that is valid in benchdnn's syntax but describes what HpcCnn does not run (3-D or
/// 1-D problems, dilated pooling). Suite readers skip such lines and count them instead of stopping.
/// </summary>
public sealed class UnsupportedProblemException(string message) : FormatException(message);

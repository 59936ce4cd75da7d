namespace HpcCnn.Problems;

/// <summary>Where framework-style "same" padding puts the odd row or column when the total is odd.</summary>
public enum SamePadding
{
    /// <summary>The extra one at the end (bottom/right): TensorFlow's "SAME", ONNX's <c>SAME_UPPER</c>.</summary>
    Upper,
    /// <summary>The extra one at the beginning (top/left): ONNX's <c>SAME_LOWER</c>.</summary>
    Lower,
}

/// <summary>Output sizes, paddings and operation counts: the one place they are computed.</summary>
public static class Geometry
{
    /// <summary>
    /// Output size along one axis: (input + padBefore + padAfter − dilation·(kernel − 1) − 1) / stride + 1,
    /// or 0 when the dilated kernel does not fit the padded input (or the stride is not positive,
    /// which validation refuses). Dilation is 1-based.
    /// </summary>
    public static long OutputSize(long input, long kernel, long stride, long padBefore, long padAfter, long dilation)
    {
        long span = dilation * (kernel - 1) + 1;
        long padded = input + padBefore + padAfter;
        return padded < span || stride <= 0 ? 0 : (padded - span) / stride + 1;
    }

    /// <summary>
    /// Framework-style "same" padding of one axis: the output has ⌈input / stride⌉ elements and the
    /// padding the dilated kernel needs for that, max(0, (out − 1)·stride + dilation·(kernel − 1) + 1 − input),
    /// is split in two, the odd one at the end (<see cref="SamePadding.Upper"/>) or the beginning.
    /// </summary>
    public static (int Before, int After) SamePaddingOf(int input, int kernel, int stride, int dilation = 1, SamePadding mode = SamePadding.Upper)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(input, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dilation, 1);
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown same-padding mode");
        long output = (input + (long)stride - 1) / stride;
        long total = Math.Max(0, (output - 1) * stride + (long)dilation * (kernel - 1) + 1 - input);
        if (total > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "the padding does not fit an int");
        int small = (int)(total / 2), large = (int)(total - total / 2);
        return mode == SamePadding.Upper ? (small, large) : (large, small);
    }

    /// <summary>Nominal forward convolution FLOPs: 2·N·K·Ho·Wo·(C/G)·R·S (one multiply and one add per tap).</summary>
    public static long ConvForwardFlops(ConvProblem p) =>
        SaturatingProduct(2, p.Batch, p.OutChannels, p.OutHeight, p.OutWidth, p.InChannels / Math.Max(p.Groups, 1), p.KernelHeight, p.KernelWidth);

    /// <summary>
    /// The product of sizes, <see cref="long.MaxValue"/> when it does not fit (a length that large
    /// fails validation) and 0 when a size is not positive (an invalid problem, which validation refuses).
    /// </summary>
    internal static long SaturatingProduct(params ReadOnlySpan<long> factors)
    {
        foreach (long factor in factors)
            if (factor <= 0) return 0;
        long product = 1;
        foreach (long factor in factors)
        {
            if (product > long.MaxValue / factor) return long.MaxValue;
            product *= factor;
        }
        return product;
    }
}

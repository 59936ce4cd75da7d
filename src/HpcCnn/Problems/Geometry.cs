namespace HpcCnn.Problems;

/// <summary>Output sizes and operation counts: the one place they are computed.</summary>
public static class Geometry
{
    /// <summary>
    /// Output size along one axis: (in + 2·pad − dilation·(kernel − 1) − 1) / stride + 1, or a value
    /// ≤ 0 when the dilated kernel does not fit the padded input. Dilation is 1-based.
    /// </summary>
    public static long OutputSize(long input, long kernel, long stride, long pad, long dilation)
    {
        long span = dilation * (kernel - 1) + 1;
        long padded = input + 2 * pad;
        return padded < span ? 0 : (padded - span) / stride + 1;
    }

    /// <summary>Nominal forward convolution FLOPs: 2·N·K·Ho·Wo·(C/G)·R·S (one multiply and one add per tap).</summary>
    public static long ConvForwardFlops(ConvProblem p) =>
        2L * p.Batch * p.OutChannels * p.OutHeight * p.OutWidth * (p.InChannels / p.Groups) * p.KernelHeight * p.KernelWidth;
}

using HpcCnn.Problems;

namespace HpcCnn.Reference;

/// <summary>
/// The oracle: each output computed straight from the definition, accumulating in double. Each
/// function also returns the magnitude Σ|terms| of the reduction behind that output, the scale of
/// the tolerance rule (see <see cref="Verification.Tolerance"/>).
/// </summary>
internal static class ReferenceKernels
{
    /// <summary>y[n,k,oh,ow] = act(b[k] + Σ_{c,r,s} x[n, g·C/G + c, oh·sh − pad_top + r·dh, ow·sw − pad_left + s·dw] · w[k,c,r,s]), x = 0 outside the image.</summary>
    public static double Conv(ConvProblem p, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b,
        long n, long k, long oh, long ow, out double magnitude)
    {
        long inPerGroup = p.InChannels / p.Groups;
        long firstChannel = k / (p.OutChannels / p.Groups) * inPerGroup;
        double sum = b.IsEmpty ? 0.0 : b[(int)k];
        magnitude = Math.Abs(sum);
        for (long c = 0; c < inPerGroup; c++)
        {
            for (long r = 0; r < p.KernelHeight; r++)
            {
                long ih = oh * p.StrideHeight - p.PadTop + r * p.DilationHeight;
                if (ih < 0 || ih >= p.InHeight) continue;
                for (long s = 0; s < p.KernelWidth; s++)
                {
                    long iw = ow * p.StrideWidth - p.PadLeft + s * p.DilationWidth;
                    if (iw < 0 || iw >= p.InWidth) continue;
                    double term = (double)x[(int)((((n * p.InChannels) + firstChannel + c) * p.InHeight + ih) * p.InWidth + iw)]
                                  * w[(int)(((k * inPerGroup + c) * p.KernelHeight + r) * p.KernelWidth + s)];
                    sum += term;
                    magnitude += Math.Abs(term);
                }
            }
        }
        return p.Activation switch
        {
            Activation.Relu => Math.Max(sum, 0.0),
            Activation.LeakyRelu => sum > 0.0 ? sum : (double)p.ActivationAlpha * sum,
            _ => sum,
        };
    }

    /// <summary>
    /// Max or average over the window of output (oh, ow) in plane (n, c): the window starts at
    /// (oh·sh − pad_top, ow·sw − pad_left). Max and the padding-excluded average see only the
    /// image elements; the padding-included average divides by the part of the window inside the
    /// padded image (ONNX Runtime's count_include_pad), which without ceil mode is the whole window.
    /// </summary>
    public static double Pool(PoolProblem p, ReadOnlySpan<float> x, long plane, long oh, long ow, out double magnitude)
    {
        long top = oh * p.StrideHeight - p.PadTop, left = ow * p.StrideWidth - p.PadLeft;
        long h0 = Math.Max(top, 0), h1 = Math.Min(top + p.KernelHeight, p.InHeight);
        long w0 = Math.Max(left, 0), w1 = Math.Min(left + p.KernelWidth, p.InWidth);
        double max = double.NegativeInfinity, sum = 0.0, absSum = 0.0;
        for (long h = h0; h < h1; h++)
        {
            for (long w = w0; w < w1; w++)
            {
                double v = x[(int)((plane * p.InHeight + h) * p.InWidth + w)];
                max = Math.Max(max, v);
                sum += v;
                absSum += Math.Abs(v);
            }
        }
        if (p.Algorithm == PoolAlgorithm.Max)
        {
            magnitude = Math.Abs(max);
            return max;
        }
        double count = p.Algorithm == PoolAlgorithm.AverageIncludePadding
            ? (double)(Math.Min(top + p.KernelHeight, p.InHeight + p.PadBottom) - top) * (Math.Min(left + p.KernelWidth, p.InWidth + p.PadRight) - left)
            : (double)(h1 - h0) * (w1 - w0);
        magnitude = absSum / count;
        return sum / count;
    }

    public static double Eltwise(EltwiseOp op, float alpha, double x) => op switch
    {
        EltwiseOp.Relu => Math.Max(x, 0.0),
        EltwiseOp.LeakyRelu => x > 0.0 ? x : alpha * x,
        EltwiseOp.Tanh => Math.Tanh(x),
        EltwiseOp.Sigmoid => 1.0 / (1.0 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown elementwise operation"),
    };
}

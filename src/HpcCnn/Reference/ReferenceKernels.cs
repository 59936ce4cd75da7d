using HpcCnn.Problems;

namespace HpcCnn.Reference;

/// <summary>
/// The oracle: each output computed straight from the definition, accumulating in double. Each
/// function also returns the magnitude Σ|terms| of the reduction behind that output, the scale of
/// the tolerance rule (see <see cref="Verification.Tolerance"/>).
/// </summary>
internal static class ReferenceKernels
{
    /// <summary>
    /// One output plane (image n, output channel k) of y[n,k,oh,ow] = act(b[k] + Σ_{c,r,s}
    /// x[n, g·C/G + c, oh·sh − pad_top + r·dh, ow·sw − pad_left + s·dw] · w[k,c,r,s]), x = 0 outside
    /// the image, accumulated in double in (c, r, s) order. <paramref name="magnitude"/> receives
    /// Σ|terms| of each output, the scale of the tolerance rule. The loops visit only the taps
    /// inside the image, which is the same sum as testing every tap.
    /// </summary>
    public static void ConvPlane(ConvProblem p, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b,
        long n, long k, Span<double> sum, Span<double> magnitude)
    {
        int inPerGroup = p.InChannels / p.Groups, firstChannel = (int)(k / (p.OutChannels / p.Groups)) * inPerGroup;
        int inHeight = p.InHeight, inWidth = p.InWidth, kernelHeight = p.KernelHeight, kernelWidth = p.KernelWidth;
        int strideWidth = p.StrideWidth, outHeight = (int)p.OutHeight, outWidth = (int)p.OutWidth;
        double bias = b.IsEmpty ? 0.0 : b[(int)k];
        var filter = w.Slice((int)(k * inPerGroup * kernelHeight * kernelWidth), inPerGroup * kernelHeight * kernelWidth);
        var image = x.Slice((int)((n * p.InChannels + firstChannel) * inHeight * inWidth), inPerGroup * inHeight * inWidth);
        // Row by row, so that one output row's sums stay in the L1 cache while every tap adds to them.
        for (int oh = 0; oh < outHeight; oh++)
        {
            var rowSum = sum.Slice(oh * outWidth, outWidth);
            var rowMagnitude = magnitude.Slice(oh * outWidth, outWidth);
            rowSum.Fill(bias);
            rowMagnitude.Fill(Math.Abs(bias));
            for (int c = 0; c < inPerGroup; c++)
            {
                for (int r = 0; r < kernelHeight; r++)
                {
                    long ih = (long)oh * p.StrideHeight - p.PadTop + (long)r * p.DilationHeight;
                    if (ih < 0 || ih >= inHeight) continue;
                    var row = image.Slice((int)((c * inHeight + ih) * inWidth), inWidth);
                    for (int s = 0; s < kernelWidth; s++)
                    {
                        double weight = filter[(c * kernelHeight + r) * kernelWidth + s];
                        // Output columns whose tap column ow·sw − pad_left + s·dw lies in [0, InWidth).
                        long shift = (long)s * p.DilationWidth - p.PadLeft;
                        long first = shift >= 0 ? 0 : (-shift + strideWidth - 1) / strideWidth;
                        long last = inWidth - 1 - shift < 0 ? -1 : Math.Min(outWidth - 1, (inWidth - 1 - shift) / strideWidth);
                        for (long ow = first; ow <= last; ow++)
                        {
                            double term = row[(int)(ow * strideWidth + shift)] * weight;
                            rowSum[(int)ow] += term;
                            rowMagnitude[(int)ow] += Math.Abs(term);
                        }
                    }
                }
            }
        }
        for (int i = 0; i < outHeight * outWidth; i++) sum[i] = Activate(p.Activation, p.ActivationAlpha, sum[i]);
    }

    /// <summary>The fused activation of a convolution, in double.</summary>
    public static double Activate(Activation activation, float alpha, double x) => activation switch
    {
        Activation.Relu => Math.Max(x, 0.0),
        Activation.LeakyRelu => x > 0.0 ? x : (double)alpha * x,
        _ => x,
    };

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

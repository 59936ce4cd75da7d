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
        PadTimesNonFiniteWeights(p, filter, inPerGroup, sum);
        for (int i = 0; i < outHeight * outWidth; i++) sum[i] = Activate(p.Activation, p.ActivationAlpha, sum[i]);
    }

    /// <summary>
    /// The padding taps the loops above skip: padding is zeros read like any input, so a weight that
    /// is NaN or infinite over padding makes that output NaN (0·∞ = NaN), as a GEMM over the padded
    /// input computes it. Finite weights add exact zeros there, which the loops leave out.
    /// </summary>
    private static void PadTimesNonFiniteWeights(ConvProblem p, ReadOnlySpan<float> filter, int inPerGroup, Span<double> sum)
    {
        int taps = p.KernelHeight * p.KernelWidth;
        for (int tap = 0; tap < taps; tap++)
        {
            bool nonFinite = false;
            for (int c = 0; c < inPerGroup && !nonFinite; c++) nonFinite = !float.IsFinite(filter[c * taps + tap]);
            if (!nonFinite) continue;
            for (long oh = 0; oh < p.OutHeight; oh++)
                for (long ow = 0; ow < p.OutWidth; ow++)
                    if (TapInPadding(p, oh, ow, tap / p.KernelWidth, tap % p.KernelWidth)) sum[(int)(oh * p.OutWidth + ow)] = double.NaN;
        }
    }

    /// <summary>Whether tap (r, s) of output (oh, ow) reads padding rather than the image.</summary>
    private static bool TapInPadding(ConvProblem p, long oh, long ow, long r, long s)
    {
        long ih = oh * p.StrideHeight - p.PadTop + r * p.DilationHeight, iw = ow * p.StrideWidth - p.PadLeft + s * p.DilationWidth;
        return ih < 0 || ih >= p.InHeight || iw < 0 || iw >= p.InWidth;
    }

    /// <summary>The activation, from its definition (native/src/core/activation.h), in double.</summary>
    public static double Activate(Activation activation, float alpha, double x) => activation switch
    {
        Activation.None => x,
        Activation.Relu => x > 0.0 || double.IsNaN(x) ? x : 0.0,
        Activation.LeakyRelu => x > 0.0 ? x : alpha * x,
        Activation.Tanh => Math.Tanh(x),
        Activation.Sigmoid => 1.0 / (1.0 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };

    /// <summary>dL/dx of the activation from its forward output y and dL/dy, in double.</summary>
    public static double ActivateBackward(Activation activation, float alpha, double y, double dy) => activation switch
    {
        Activation.None => dy,
        Activation.Relu => y <= 0.0 ? 0.0 : dy,
        Activation.LeakyRelu => y > 0.0 ? dy : alpha * dy,
        Activation.Tanh => dy * (1.0 - y * y),
        Activation.Sigmoid => dy * y * (1.0 - y),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };

    /// <summary>dL/dz = act'(y)·dL/dy for every output of a layer, in double (dL/dy itself without an activation).</summary>
    public static double[] PreActivationGradient(Activation activation, float alpha, ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output)
    {
        var dz = new double[diffOutput.Length];
        for (int i = 0; i < dz.Length; i++)
            dz[i] = activation == Activation.None ? diffOutput[i] : ActivateBackward(activation, alpha, output[i], diffOutput[i]);
        return dz;
    }

    /// <summary>One batch row of the dense layer: y[b][o] = act(bias[o] + Σᵢ x[b][i]·w[o][i]), in i order, with Σ|terms|.</summary>
    public static void DenseForwardRow(DenseProblem p, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, long b,
        Span<double> sum, Span<double> magnitude)
    {
        long inFeatures = p.InFeatures;
        for (int o = 0; o < p.OutChannels; o++)
        {
            double total = bias.IsEmpty ? 0.0 : bias[o], absolute = Math.Abs(total);
            for (long i = 0; i < inFeatures; i++)
            {
                double term = (double)x[(int)(b * inFeatures + i)] * w[(int)(o * inFeatures + i)];
                total += term;
                absolute += Math.Abs(term);
            }
            sum[o] = Activate(p.Activation, p.ActivationAlpha, total);
            magnitude[o] = absolute;
        }
    }

    /// <summary>One batch row of the dense layer's dL/dx[b][i] = Σₒ dL/dz[b][o]·w[o][i], in o order.</summary>
    public static void DenseBackwardDataRow(DenseProblem p, ReadOnlySpan<double> dz, ReadOnlySpan<float> w, long b, Span<double> sum, Span<double> magnitude)
    {
        long inFeatures = p.InFeatures;
        for (long i = 0; i < inFeatures; i++)
        {
            double total = 0.0, absolute = 0.0;
            for (long o = 0; o < p.OutChannels; o++)
            {
                double term = dz[(int)(b * p.OutChannels + o)] * w[(int)(o * inFeatures + i)];
                total += term;
                absolute += Math.Abs(term);
            }
            sum[(int)i] = total;
            magnitude[(int)i] = absolute;
        }
    }

    /// <summary>Output feature o's weights gradient dL/dw[o][i] = Σ_b dL/dz[b][o]·x[b][i] and bias gradient Σ_b dL/dz[b][o], in b order.</summary>
    public static void DenseBackwardWeightsRow(DenseProblem p, ReadOnlySpan<float> x, ReadOnlySpan<double> dz, long o,
        Span<double> diffWeights, Span<double> weightsMagnitude, out double diffBias, out double biasMagnitude)
    {
        long inFeatures = p.InFeatures;
        diffBias = 0.0;
        biasMagnitude = 0.0;
        for (long b = 0; b < p.Batch; b++)
        {
            diffBias += dz[(int)(b * p.OutChannels + o)];
            biasMagnitude += Math.Abs(dz[(int)(b * p.OutChannels + o)]);
        }
        for (long i = 0; i < inFeatures; i++)
        {
            double total = 0.0, absolute = 0.0;
            for (long b = 0; b < p.Batch; b++)
            {
                double term = dz[(int)(b * p.OutChannels + o)] * x[(int)(b * inFeatures + i)];
                total += term;
                absolute += Math.Abs(term);
            }
            diffWeights[(int)i] = total;
            weightsMagnitude[(int)i] = absolute;
        }
    }

    /// <summary>
    /// One input plane (image n, input channel c) of dL/dx[n,c,i,j] = Σ over the group's k and the
    /// taps (r, s) with i = oh·sh − pad_top + r·dh, j = ow·sw − pad_left + s·dw inside the output,
    /// of dL/dz[n,k,oh,ow]·w[k,c',r,s], in (k, r, s) order, with Σ|terms| in <paramref name="magnitude"/>.
    /// </summary>
    public static void ConvBackwardDataPlane(ConvProblem p, ReadOnlySpan<double> dz, ReadOnlySpan<float> w, long n, long c,
        Span<double> sum, Span<double> magnitude)
    {
        int plane = p.InHeight * p.InWidth;
        sum[..plane].Clear();
        magnitude[..plane].Clear();
        long inPerGroup = p.InChannels / p.Groups, outPerGroup = p.OutChannels / p.Groups, g = c / inPerGroup, cg = c % inPerGroup;
        long outHeight = p.OutHeight, outWidth = p.OutWidth;
        for (long k = g * outPerGroup; k < (g + 1) * outPerGroup; k++)
            for (long r = 0; r < p.KernelHeight; r++)
                for (long s = 0; s < p.KernelWidth; s++)
                {
                    double weight = w[(int)(((k * inPerGroup + cg) * p.KernelHeight + r) * p.KernelWidth + s)];
                    for (long oh = 0; oh < outHeight; oh++)
                    {
                        long ih = oh * p.StrideHeight - p.PadTop + r * p.DilationHeight;
                        if (ih < 0 || ih >= p.InHeight) continue;
                        for (long ow = 0; ow < outWidth; ow++)
                        {
                            long iw = ow * p.StrideWidth - p.PadLeft + s * p.DilationWidth;
                            if (iw < 0 || iw >= p.InWidth) continue;
                            double term = dz[(int)(((n * p.OutChannels + k) * outHeight + oh) * outWidth + ow)] * weight;
                            sum[(int)(ih * p.InWidth + iw)] += term;
                            magnitude[(int)(ih * p.InWidth + iw)] += Math.Abs(term);
                        }
                    }
                }
    }

    /// <summary>
    /// The weights gradient of output channel k, dL/dw[k,c,r,s] = Σ over n, oh, ow of
    /// dL/dz[n,k,oh,ow]·x[n, g·C/G + c, oh·sh − pad_top + r·dh, ow·sw − pad_left + s·dw], and its bias
    /// gradient Σ dL/dz[n,k,·,·], with the magnitudes of their terms.
    /// </summary>
    public static void ConvBackwardWeightsChannel(ConvProblem p, ReadOnlySpan<float> x, ReadOnlySpan<double> dz, long k,
        Span<double> diffWeights, Span<double> weightsMagnitude, out double diffBias, out double biasMagnitude)
    {
        long inPerGroup = p.InChannels / p.Groups, firstChannel = k / (p.OutChannels / p.Groups) * inPerGroup;
        long outHeight = p.OutHeight, outWidth = p.OutWidth, taps = (long)p.KernelHeight * p.KernelWidth;
        diffBias = 0.0;
        biasMagnitude = 0.0;
        for (long n = 0; n < p.Batch; n++)
            for (long o = 0; o < outHeight * outWidth; o++)
            {
                double g = dz[(int)((n * p.OutChannels + k) * outHeight * outWidth + o)];
                diffBias += g;
                biasMagnitude += Math.Abs(g);
            }
        for (long c = 0; c < inPerGroup; c++)
            for (long r = 0; r < p.KernelHeight; r++)
                for (long s = 0; s < p.KernelWidth; s++)
                {
                    double sum = 0.0, magnitude = 0.0;
                    for (long n = 0; n < p.Batch; n++)
                        for (long oh = 0; oh < outHeight; oh++)
                        {
                            long ih = oh * p.StrideHeight - p.PadTop + r * p.DilationHeight;
                            if (ih < 0 || ih >= p.InHeight) continue;
                            for (long ow = 0; ow < outWidth; ow++)
                            {
                                long iw = ow * p.StrideWidth - p.PadLeft + s * p.DilationWidth;
                                if (iw < 0 || iw >= p.InWidth) continue;
                                double term = dz[(int)(((n * p.OutChannels + k) * outHeight + oh) * outWidth + ow)]
                                              * x[(int)((((n * p.InChannels) + firstChannel + c) * p.InHeight + ih) * p.InWidth + iw)];
                                sum += term;
                                magnitude += Math.Abs(term);
                            }
                        }
                    diffWeights[(int)((c * p.KernelHeight + r) * p.KernelWidth + s)] = sum;
                    weightsMagnitude[(int)((c * p.KernelHeight + r) * p.KernelWidth + s)] = magnitude;
                }
        // Padding is zeros read like any input: an infinite or NaN dL/dz whose tap (r, s) falls in
        // padding makes dL/dw[k, ·, r, s] NaN, as the GEMM over the padded input computes it.
        for (long r = 0; r < p.KernelHeight; r++)
            for (long s = 0; s < p.KernelWidth; s++)
            {
                bool nonFiniteOverPadding = false;
                for (long n = 0; n < p.Batch && !nonFiniteOverPadding; n++)
                    for (long oh = 0; oh < outHeight && !nonFiniteOverPadding; oh++)
                        for (long ow = 0; ow < outWidth && !nonFiniteOverPadding; ow++)
                            nonFiniteOverPadding = !double.IsFinite(dz[(int)(((n * p.OutChannels + k) * outHeight + oh) * outWidth + ow)]) && TapInPadding(p, oh, ow, r, s);
                if (!nonFiniteOverPadding) continue;
                for (long c = 0; c < inPerGroup; c++) diffWeights[(int)((c * p.KernelHeight + r) * p.KernelWidth + s)] = double.NaN;
            }
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

    /// <summary>
    /// The index within the input plane of the window's first maximum in row-major order (the one
    /// every backend routes the gradient to); NaN counts as larger than any number, so a window
    /// holding NaN names its first NaN.
    /// </summary>
    public static int PoolArgmax(PoolProblem p, ReadOnlySpan<float> x, long plane, long oh, long ow)
    {
        long top = oh * p.StrideHeight - p.PadTop, left = ow * p.StrideWidth - p.PadLeft;
        long h0 = Math.Max(top, 0), h1 = Math.Min(top + p.KernelHeight, p.InHeight);
        long w0 = Math.Max(left, 0), w1 = Math.Min(left + p.KernelWidth, p.InWidth);
        long best = h0 * p.InWidth + w0;
        var values = x.Slice((int)(plane * p.InHeight * p.InWidth), p.InHeight * p.InWidth);
        for (long h = h0; h < h1; h++)
            for (long w = w0; w < w1; w++)
            {
                float v = values[(int)(h * p.InWidth + w)], current = values[(int)best];
                if (v > current || (float.IsNaN(v) && !float.IsNaN(current))) best = h * p.InWidth + w;
            }
        return (int)best;
    }

    /// <summary>
    /// One input plane of pooling's dL/dx: for max pooling dL/dy added at each window's argmax (from
    /// the forward pass's workspace), for the averages Σ dL/dy / window size over the windows
    /// holding each element, in row-major window order.
    /// </summary>
    public static void PoolBackwardPlane(PoolProblem p, ReadOnlySpan<float> diffOutput, ReadOnlySpan<int> workspace, long plane,
        Span<double> sum, Span<double> magnitude)
    {
        int inPlane = p.InHeight * p.InWidth;
        sum[..inPlane].Clear();
        magnitude[..inPlane].Clear();
        long outPlane = p.OutHeight * p.OutWidth;
        for (long oh = 0; oh < p.OutHeight; oh++)
            for (long ow = 0; ow < p.OutWidth; ow++)
            {
                long o = plane * outPlane + oh * p.OutWidth + ow;
                double dy = diffOutput[(int)o];
                if (p.Algorithm == PoolAlgorithm.Max)
                {
                    int index = workspace[(int)o];
                    sum[index] += dy;
                    magnitude[index] += Math.Abs(dy);
                    continue;
                }
                long top = oh * p.StrideHeight - p.PadTop, left = ow * p.StrideWidth - p.PadLeft;
                long h0 = Math.Max(top, 0), h1 = Math.Min(top + p.KernelHeight, p.InHeight);
                long w0 = Math.Max(left, 0), w1 = Math.Min(left + p.KernelWidth, p.InWidth);
                double count = p.Algorithm == PoolAlgorithm.AverageIncludePadding
                    ? (double)(Math.Min(top + p.KernelHeight, p.InHeight + p.PadBottom) - top) * (Math.Min(left + p.KernelWidth, p.InWidth + p.PadRight) - left)
                    : (double)(h1 - h0) * (w1 - w0);
                for (long h = h0; h < h1; h++)
                    for (long w = w0; w < w1; w++)
                    {
                        sum[(int)(h * p.InWidth + w)] += dy / count;
                        magnitude[(int)(h * p.InWidth + w)] += Math.Abs(dy / count);
                    }
            }
    }

    /// <summary>
    /// Softmax of one row in double, the maximum subtracted first; returns log-sum-exp of the row
    /// (the loss of label j is that minus x[j]).
    /// </summary>
    public static double SoftmaxRow(ReadOnlySpan<float> x, Span<double> p)
    {
        double maximum = double.NegativeInfinity;
        foreach (float v in x) maximum = Math.Max(maximum, v);
        double sum = 0;
        for (int j = 0; j < x.Length; j++) sum += p[j] = Math.Exp(x[j] - maximum);
        for (int j = 0; j < x.Length; j++) p[j] /= sum;
        return maximum + Math.Log(sum);
    }
}

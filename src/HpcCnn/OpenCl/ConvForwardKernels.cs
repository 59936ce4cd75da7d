using System.Runtime.InteropServices;
using HpcCnn.Problems;

namespace HpcCnn.OpenCl;

/// <summary>
/// The forward convolution kernels of one problem on one device, chosen by kernel style: the
/// register-tiled direct kernel (Cpu style), the local-memory implicit GEMM (Gpu style) or the
/// depthwise kernel, with the padded, phase-split input copy when the problem needs one. Weights
/// are packed and written into buffers made at creation, so new weights cost a repack and a copy.
/// </summary>
internal sealed class ConvForwardKernels
{
    private const int OutputChannelTile = 8;     // the kernel's register tile: 8 output channels
    private const int CpuGroupSize = 4;
    private const int GemmTile = 64, GemmGroupSize = 256;  // must match GEMM_TM/GEMM_TN and GEMM_GROUP in conv2d.cl

    private readonly OpenClDevice device;
    private readonly ConvProblem problem;
    private readonly ClHandle kernel, weightsBuffer, biasBuffer;
    private readonly long items;
    private readonly nuint groupSize;
    private readonly PaddedInput? padded;
    private readonly Func<ReadOnlySpan<float>, float[]> pack;
    private readonly PlanRunner runner;
    private ConvShape shape;
    private ClHandle? gather, gatherMap;
    private int gatherLength;
    private nuint gatherGroup;

    /// <summary>The shape argument of conv2d.cl's kernels; field order and types match struct conv_shape.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ConvShape
    {
        public int Batch, Groups, InPerGroup, OutPerGroup, KTiles;
        public int PaddedHeight, RowLength, PhaseWidth;
        public int OutHeight, OutWidth, ColTiles;
        public int KernelH, KernelW, StrideH, StrideW, DilationH;
        public int TapPhaseStep, TapOffsetStep;
        public int HasBias, Activation;
        public float Alpha;
    }

    public ConvForwardKernels(PlanRunner runner, ConvProblem p)
    {
        this.runner = runner;
        device = runner.Device;
        problem = p;
        if (!StrideWithinKernel(p))
        {
            // A padded copy would follow the stride, not the image: read the input where it is.
            var direct = device.Program("conv2d", p.StrideWidth == 1 ? "-D UNIT_STRIDE" : "");
            kernel = runner.Own(device.CreateKernel(direct, "conv2d_direct_unpadded"));
            pack = w => w.ToArray();
            weightsBuffer = runner.Own(device.CreateBuffer(p.WeightsLength));
            biasBuffer = runner.Own(device.CreateBuffer(p.OutChannels));
            items = OpenClLimits.ToInt(p.OutputLength, p, "the output");
            shape = new ConvShape { Activation = (int)p.Activation, Alpha = p.ActivationAlpha };
            device.SetArgument(kernel, 1, weightsBuffer);
            device.SetArgument(kernel, 2, biasBuffer);
            device.SetArgument(kernel, 4, shape);
            device.SetArgument(kernel, 5, OpenClConvPlan.BackwardShape(p));
            device.SetArgument(kernel, 6, (int)items);
            groupSize = device.WorkGroupSize(kernel, CpuGroupSize);
            Name = "conv2d_direct_unpadded_ocl";
            return;
        }
        int vw = device.VectorWidth;
        int inPerGroup = p.InChannels / p.Groups, outPerGroup = p.OutChannels / p.Groups;
        // One input channel per group with few outputs per group: an 8-channel tile would be mostly idle.
        bool depthwise = inPerGroup == 1 && outPerGroup < OutputChannelTile / 2;
        // A 1x1 convolution with unit stride and no padding maps pixel i to pixel i: run it on the
        // flattened plane, one long row, so the vector tiles fill whole and no copy is needed.
        bool flat = p.KernelHeight == 1 && p.KernelWidth == 1 && p.StrideHeight == 1 && p.StrideWidth == 1
                    && p.PadTop == 0 && p.PadBottom == 0 && p.PadLeft == 0 && p.PadRight == 0;
        int inHeight = flat ? 1 : p.InHeight, inWidth = flat ? OpenClLimits.ToInt((long)p.InHeight * p.InWidth, p, "the image") : p.InWidth;
        int outHeight = flat ? 1 : OpenClLimits.ToInt(p.OutHeight, p, "the output height");
        int outWidth = flat ? inWidth : OpenClLimits.ToInt(p.OutWidth, p, "the output width");
        int colTiles = (int)(((long)outWidth + vw - 1) / vw);
        int dilationH = flat ? 1 : p.DilationHeight, dilationW = flat ? 1 : p.DilationWidth;
        int paddedHeight = OpenClLimits.ToInt(
            Math.Max((long)p.PadTop + inHeight, (long)(outHeight - 1) * p.StrideHeight + (long)(p.KernelHeight - 1) * dilationH + 1), p, "the padded input height");
        // Rows are split by column stride phase (see conv2d.cl); a phase holds what the column
        // tiles read: colTiles*VW outputs plus the reach of the kernel's last tap.
        int phaseWidth = OpenClLimits.ToInt((long)colTiles * vw + (long)(p.KernelWidth - 1) * dilationW / p.StrideWidth, p, "the padded input width");
        int rowLength = OpenClLimits.ToInt((long)phaseWidth * p.StrideWidth, p, "the padded input row");
        bool needsPadding = p.StrideWidth != 1 || p.PadTop != 0 || p.PadLeft != 0
                            || paddedHeight != inHeight || phaseWidth != inWidth;
        int kTiles = (outPerGroup + OutputChannelTile - 1) / OutputChannelTile;
        if ((long)inPerGroup * paddedHeight * rowLength > int.MaxValue)
            throw new ArgumentException($"{p} is too large for {device.Info.Name}", nameof(p));

        shape = new ConvShape
        {
            Batch = p.Batch, Groups = p.Groups, InPerGroup = inPerGroup, OutPerGroup = outPerGroup, KTiles = kTiles,
            PaddedHeight = paddedHeight, RowLength = rowLength, PhaseWidth = phaseWidth,
            OutHeight = outHeight, OutWidth = outWidth, ColTiles = colTiles,
            KernelH = p.KernelHeight, KernelW = p.KernelWidth, StrideH = p.StrideHeight, StrideW = p.StrideWidth,
            DilationH = dilationH, TapPhaseStep = dilationW % p.StrideWidth, TapOffsetStep = dilationW / p.StrideWidth,
            HasBias = 0, Activation = (int)p.Activation, Alpha = p.ActivationAlpha,
        };

        var program = device.Program("conv2d", p.StrideWidth == 1 ? "-D UNIT_STRIDE" : "");
        biasBuffer = runner.Own(device.CreateBuffer(p.OutChannels));
        // The GEMM kernel needs whole 256-item groups; a device or build that cannot run them gets
        // the register-tiled kernel instead.
        ClHandle? gemm = !depthwise && device.GpuStyle && device.Info.MaxWorkGroupSize >= GemmGroupSize
            ? runner.Own(device.CreateKernel(program, "conv2d_gemm_local"))
            : null;
        if (gemm is not null && device.KernelWorkGroupLimit(gemm) < GemmGroupSize) gemm = null;
        if (gemm is not null)
        {
            int crs = inPerGroup * p.KernelHeight * p.KernelWidth;
            int mTiles = (outPerGroup + GemmTile - 1) / GemmTile;
            int nTiles = (outHeight * outWidth + GemmTile - 1) / GemmTile;
            items = (long)p.Batch * p.Groups * mTiles * nTiles * GemmGroupSize;
            kernel = gemm;
            pack = w => PackWeightsForGemm(p, w, mTiles * GemmTile);
            weightsBuffer = runner.Own(device.CreateBuffer((long)p.Groups * crs * mTiles * GemmTile));
            var offsets = TapOffsets(p, inPerGroup, (long)paddedHeight * rowLength, dilationH, dilationW, rowLength, phaseWidth);
            device.SetArgument(kernel, 5, runner.Own(device.CreateBuffer(offsets.Length, MemoryMarshal.Cast<int, float>(offsets))));
            device.SetArgument(kernel, 6, crs);
            device.SetArgument(kernel, 7, mTiles);
            device.SetArgument(kernel, 8, nTiles);
            groupSize = GemmGroupSize;
            Name = $"conv2d_gemm_{GemmTile}x{GemmTile}_local_ocl";
        }
        else
        {
            items = depthwise ? (long)p.Batch * p.OutChannels * outHeight * colTiles
                              : (long)p.Batch * p.Groups * kTiles * outHeight * colTiles;
            kernel = runner.Own(device.CreateKernel(program, depthwise ? "conv2d_depthwise_v" : "conv2d_direct_8xv"));
            pack = depthwise ? w => w.ToArray() : w => PackWeights(p, w, kTiles);
            weightsBuffer = runner.Own(device.CreateBuffer(depthwise ? p.WeightsLength : (long)p.Groups * kTiles * inPerGroup * p.KernelHeight * p.KernelWidth * OutputChannelTile));
            device.SetArgument(kernel, 5, OpenClLimits.ToInt(items, p, "the work-items of one launch"));
            groupSize = device.WorkGroupSize(kernel, CpuGroupSize);
            Name = depthwise ? $"conv2d_depthwise_{vw}_ocl" : $"conv2d_direct_{OutputChannelTile}x{vw}_ocl";
        }
        if (items > int.MaxValue) throw new ArgumentException($"{p} is too large for one launch on {device.Info.Name}", nameof(p));
        device.SetArgument(kernel, 1, weightsBuffer);
        device.SetArgument(kernel, 2, biasBuffer);
        device.SetArgument(kernel, 4, shape);
        if (needsPadding)
        {
            padded = new PaddedInput(runner, program, (long)p.Batch * p.InChannels, inHeight, inWidth, paddedHeight,
                p.StrideWidth, phaseWidth, p.PadTop, p.PadLeft, fill: 0f);
            device.SetArgument(kernel, 0, padded.Buffer);
            Name = "pad+" + Name;
        }
    }

    /// <summary>The kernels as the plan reports them, e.g. <c>pad+conv2d_direct_8x16_ocl</c>.</summary>
    public string Name { get; }

    /// <summary>Packs and writes new weights (and bias, empty for none); call under the plan's lock.</summary>
    public void SetWeights(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        device.Write(weightsBuffer, 0, pack(weights));
        if (!bias.IsEmpty) device.Write(biasBuffer, 0, bias);
        shape.HasBias = bias.IsEmpty ? 0 : 1;
        device.SetArgument(kernel, 4, shape);
    }

    /// <summary>The most weights whose positions a float holds exactly (the gather map is made by packing positions).</summary>
    public const long MaxDeviceGatherWeights = 1 << 24;

    /// <summary>
    /// Packs weights that are already on the device (plain KCRS, optionally rearranged first by
    /// <paramref name="rearrange"/>, a permutation) with one gather launch, and copies the bias
    /// (null: none); call under the plan's lock. The gather map is the host packer applied once to
    /// the weights' positions.
    /// </summary>
    public void SetWeights(ClHandle plain, long length, ClHandle? bias, Func<float[], float[]>? rearrange = null)
    {
        if (length >= MaxDeviceGatherWeights) throw new InvalidOperationException("too many weights for a gather map");
        if (gather is null)
        {
            var positions = new float[length];
            for (int i = 0; i < positions.Length; i++) positions[i] = i + 1;
            var packed = pack(rearrange is null ? positions : rearrange(positions));
            var map = new int[packed.Length];
            for (int i = 0; i < map.Length; i++) map[i] = (int)packed[i] - 1;
            gatherMap = runner.Own(device.CreateBuffer(map.Length, MemoryMarshal.Cast<int, float>(map)));
            gather = runner.Own(device.CreateKernel(device.Program("training", ""), "gather_weights"));
            gatherLength = checked((int)map.Length);
            gatherGroup = device.WorkGroupSize(gather, 64);
        }
        device.SetArgument(gather, 0, plain);
        device.SetArgument(gather, 1, gatherMap!);
        device.SetArgument(gather, 2, weightsBuffer);
        device.SetArgument(gather, 3, gatherLength);
        device.Launch(gather, gatherLength, gatherGroup);
        if (bias is not null) device.Copy(bias, biasBuffer, problem.OutChannels);
        shape.HasBias = bias is null ? 0 : 1;
        device.SetArgument(kernel, 4, shape);
    }

    /// <summary>Queues the convolution of <paramref name="input"/> into <paramref name="output"/>; call under the plan's lock.</summary>
    public void Enqueue(ClHandle input, ClHandle output)
    {
        if (padded is not null) padded.Enqueue(input);
        else device.SetArgument(kernel, 0, input);
        device.SetArgument(kernel, 3, output);
        device.Launch(kernel, items, groupSize);
    }

    /// <summary>
    /// Whether each stride is at most twice its dilated kernel extent (the CPU's rule too): beyond,
    /// the padded, phase-split copy holds mostly rows and columns no tap reads.
    /// </summary>
    internal static bool StrideWithinKernel(ConvProblem p) =>
        p.StrideHeight <= 2L * ((long)(p.KernelHeight - 1) * p.DilationHeight + 1) &&
        p.StrideWidth <= 2L * ((long)(p.KernelWidth - 1) * p.DilationWidth + 1);

    /// <summary>KCRS weights to [groups][C/G·R·S][k padded to the tile], the A operand of conv2d_gemm_local.</summary>
    private static float[] PackWeightsForGemm(ConvProblem p, ReadOnlySpan<float> weights, int paddedOutPerGroup)
    {
        int outPerGroup = p.OutChannels / p.Groups;
        int crs = p.InChannels / p.Groups * p.KernelHeight * p.KernelWidth;
        var packed = new float[(long)p.Groups * crs * paddedOutPerGroup];
        for (int g = 0; g < p.Groups; g++)
            for (int k = 0; k < outPerGroup; k++)
                for (int j = 0; j < crs; j++)
                    packed[((long)g * crs + j) * paddedOutPerGroup + k] = weights[(int)(((long)g * outPerGroup + k) * crs + j)];
        return packed;
    }

    /// <summary>Where tap (c, r, s) of output pixel (0, 0) is in one image's padded, phase-split input.</summary>
    private static int[] TapOffsets(ConvProblem p, int inPerGroup, long plane, int dilationH, int dilationW, int rowLength, int phaseWidth)
    {
        int r = p.KernelHeight, s = p.KernelWidth;
        var offsets = new int[inPerGroup * r * s];
        for (int c = 0; c < inPerGroup; c++)
            for (int i = 0; i < r; i++)
                for (int j = 0; j < s; j++)
                {
                    int column = j * dilationW;
                    offsets[(c * r + i) * s + j] = checked((int)(c * plane + (long)i * dilationH * rowLength
                        + column % p.StrideWidth * phaseWidth + column / p.StrideWidth));
                }
        return offsets;
    }

    /// <summary>KCRS weights to [groups][k tiles][C/G][R][S][8], zero past the last output channel of a group.</summary>
    private static float[] PackWeights(ConvProblem p, ReadOnlySpan<float> weights, int kTiles)
    {
        int inPerGroup = p.InChannels / p.Groups, outPerGroup = p.OutChannels / p.Groups;
        int taps = p.KernelHeight * p.KernelWidth;
        var packed = new float[(long)p.Groups * kTiles * inPerGroup * taps * OutputChannelTile];
        for (int g = 0; g < p.Groups; g++)
            for (int kt = 0; kt < kTiles; kt++)
                for (int c = 0; c < inPerGroup; c++)
                    for (int t = 0; t < taps; t++)
                        for (int i = 0; i < OutputChannelTile; i++)
                        {
                            int k = kt * OutputChannelTile + i;
                            if (k >= outPerGroup) continue;
                            long source = ((long)(g * outPerGroup + k) * inPerGroup + c) * taps + t;
                            long target = ((((long)g * kTiles + kt) * inPerGroup + c) * taps + t) * OutputChannelTile + i;
                            packed[target] = weights[(int)source];
                        }
        return packed;
    }
}

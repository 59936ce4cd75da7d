using System.Runtime.InteropServices;
using HpcCnn.Problems;

namespace HpcCnn.OpenCl;

/// <summary>
/// A convolution on an OpenCL device, in one direction. Kernels and programs are made at
/// creation; a run only sets arguments and queues launches. Run it on <see cref="OpenClTensor"/>s
/// to keep data on the device; the span overloads copy in and out and wait.
/// <list type="bullet">
/// <item>Forward: <see cref="ConvForwardKernels"/>.</item>
/// <item>Backward data: for stride 1 (padding within the kernel's reach) a forward convolution of
/// dL/dy with the kernels flipped and the channels swapped, on the same fast kernels; otherwise a
/// gather kernel, one input element per work-item.</item>
/// <item>Backward weights: one weight (and one bias) per work-item and chunk of images, the chunks then added in order.</item>
/// </list>
/// With an activation, the backward passes first compute dL/dz = act'(y)·dL/dy into a buffer of the plan.
/// </summary>
public sealed class OpenClConvPlan : ConvPlan
{
    private const int CpuGroupSize = 16;

    private readonly PlanRunner runner;
    private readonly ConvForwardKernels? forward;
    private readonly OpenClConvPlan? forwardOfBackward;
    private readonly ClHandle? gather, weightsGradient, biasGradient, plainWeights;
    private readonly nuint gatherGroup, weightsGroup, biasGroup, sumGroup;
    private readonly ClHandle? partials, biasPartials, sumChunks;
    private readonly int chunks = 1;
    private readonly PreActivation? preActivation;
    private readonly string algorithm;

    /// <summary>Matches struct conv_backward_shape in conv2d.cl.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ConvBackwardShape
    {
        public int Batch, InChannels, InHeight, InWidth, OutChannels, OutHeight, OutWidth, Groups;
        public int KernelH, KernelW, StrideH, StrideW, PadTop, PadLeft, DilationH, DilationW;
    }

    internal OpenClConvPlan(OpenClDevice device, ConvProblem problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
        : base(problem)
    {
        runner = new PlanRunner(device);
        try
        {
            var p = problem;
            if (p.Direction.IsForward())
            {
                forward = new ConvForwardKernels(runner, p);
                algorithm = forward.Name;
            }
            else
            {
                var shape = BackwardShape(p);
                var program = device.Program("conv2d", (p.StrideWidth == 1 ? "-D UNIT_STRIDE" : "") + (NeedsWideIndex(p) ? " -D WIDE_INDEX" : ""));
                if (p.Direction == Direction.BackwardData)
                {
                    // The gather computes dL/dx from the definition; after a forward convolution of dL/dz (unit
                    // stride) it only recomputes the elements that came out NaN (see conv2d_backward_data).
                    gather = runner.Own(device.CreateKernel(program, "conv2d_backward_data"));
                    plainWeights = runner.Own(device.CreateBuffer(p.WeightsLength));
                    device.SetArgument(gather, 1, plainWeights);
                    device.SetArgument(gather, 3, shape);
                    device.SetArgument(gather, 4, OpenClLimits.ToInt(p.InputLength, p, "the input"));
                    gatherGroup = device.WorkGroupSize(gather, CpuGroupSize);
                    if (BackwardDataAsForward(p) is { } transformed)
                        forwardOfBackward = new OpenClConvPlan(device, transformed, default, default);
                    device.SetArgument(gather, 5, forwardOfBackward is null ? 0 : 1);
                    algorithm = forwardOfBackward is null ? "conv2d_backward_data_ocl" : "as_forward:" + forwardOfBackward.Algorithm;
                }
                else
                {
                    (chunks, int perChunk) = GradientChunks(p);
                    weightsGradient = runner.Own(device.CreateKernel(program, "conv2d_backward_weights"));
                    device.SetArgument(weightsGradient, 3, shape);
                    device.SetArgument(weightsGradient, 4, OpenClLimits.ToInt(p.WeightsLength, p, "the weights"));
                    device.SetArgument(weightsGradient, 5, perChunk);
                    weightsGroup = device.WorkGroupSize(weightsGradient, CpuGroupSize);
                    biasGradient = runner.Own(device.CreateKernel(program, "conv2d_backward_bias"));
                    device.SetArgument(biasGradient, 2, shape);
                    device.SetArgument(biasGradient, 3, perChunk);
                    biasGroup = device.WorkGroupSize(biasGradient, CpuGroupSize);
                    if (chunks > 1)
                    {
                        partials = runner.Own(device.CreateBuffer(chunks * p.WeightsLength));
                        biasPartials = runner.Own(device.CreateBuffer((long)chunks * p.OutChannels));
                        sumChunks = runner.Own(device.CreateKernel(program, "conv2d_sum_chunks"));
                        sumGroup = device.WorkGroupSize(sumChunks, CpuGroupSize);
                    }
                    algorithm = "conv2d_backward_weights_ocl";
                }
                preActivation = new PreActivation(runner, p.Activation, p.ActivationAlpha, p.OutputLength);
                if (preActivation.Active) algorithm = "eltwise_backward+" + algorithm;
            }
            if (!weights.IsEmpty)
            {
                SetWeightsCore(weights, bias);
                WeightsGiven();
            }
        }
        catch
        {
            forwardOfBackward?.Dispose();
            runner.Dispose();
            throw;
        }
    }

    public override string Algorithm => algorithm;
    public override string Isa => "opencl";

    /// <summary>Queues the convolution of <paramref name="input"/> into <paramref name="output"/> and returns without waiting.</summary>
    /// <exception cref="ArgumentException">A tensor is too short, belongs to another backend, or input and output are the same tensor.</exception>
    public void Run(OpenClTensor input, OpenClTensor output) => Forward(input, output);

    private protected override void SetWeightsCore(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        if (forwardOfBackward is not null)
        {
            forwardOfBackward.SetWeights(FlipAndTranspose(Problem, weights));
            using (runner.Lock()) runner.Device.Write(plainWeights!, 0, weights);
            return;
        }
        using (runner.Lock())
        {
            forward?.SetWeights(weights, bias);
            if (plainWeights is not null) runner.Device.Write(plainWeights, 0, weights);
        }
    }

    /// <summary>Weights already on this device are packed there (one gather launch), never read back.</summary>
    private protected override void SetWeightsCore(DeviceBuffer weights, DeviceBuffer? bias)
    {
        if (Problem.WeightsLength >= ConvForwardKernels.MaxDeviceGatherWeights)
        {
            base.SetWeightsCore(weights, bias);
            return;
        }
        var w = runner.Buffer(weights, nameof(weights));
        var b = runner.BufferOrNull(bias, nameof(bias));
        if (forwardOfBackward is not null)
        {
            // dL/dx as a forward convolution: the flipped, transposed kernels, gathered in one go.
            forwardOfBackward.SetDeviceWeights(w, Problem.WeightsLength, null, positions => FlipAndTranspose(Problem, positions));
            using (runner.Lock()) runner.Device.Copy(w, plainWeights!, Problem.WeightsLength);
            return;
        }
        using (runner.Lock())
        {
            forward?.SetWeights(w, Problem.WeightsLength, b);
            if (plainWeights is not null) runner.Device.Copy(w, plainWeights, Problem.WeightsLength);
        }
    }

    private void SetDeviceWeights(ClHandle plain, long length, ClHandle? bias, Func<float[], float[]> rearrange)
    {
        using (runner.Lock()) forward!.SetWeights(plain, length, bias, rearrange);
        WeightsGiven();
    }

    private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output)
    {
        using (runner.Lock())
        {
            var y = runner.StageOut(1, output)!;
            forward!.Enqueue(runner.StageIn(0, input)!, y);
            runner.Read(y, output);
        }
    }

    private protected override void ForwardCore(DeviceBuffer input, DeviceBuffer output)
    {
        using (runner.Lock()) forward!.Enqueue(runner.Buffer(input, nameof(input)), runner.Buffer(output, nameof(output)));
    }

    private protected override void BackwardDataCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output, Span<float> diffInput)
    {
        using (runner.Lock())
        {
            var dx = runner.StageOut(2, diffInput)!;
            BackwardDataOn(runner.StageIn(0, diffOutput)!, runner.StageIn(1, output), dx);
            runner.Read(dx, diffInput);
        }
    }

    private protected override void BackwardDataCore(DeviceBuffer diffOutput, DeviceBuffer? output, DeviceBuffer diffInput)
    {
        using (runner.Lock())
            BackwardDataOn(runner.Buffer(diffOutput, nameof(diffOutput)), runner.BufferOrNull(output, nameof(output)), runner.Buffer(diffInput, nameof(diffInput)));
    }

    private protected override void BackwardWeightsCore(ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output,
        Span<float> diffWeights, Span<float> diffBias)
    {
        using (runner.Lock())
        {
            var dw = runner.StageOut(3, diffWeights)!;
            var db = runner.StageOut(4, diffBias);
            BackwardWeightsOn(runner.StageIn(0, input)!, runner.StageIn(1, diffOutput)!, runner.StageIn(2, output), dw, db);
            runner.Read(dw, diffWeights);
            runner.Read(db, diffBias);
        }
    }

    private protected override void BackwardWeightsCore(DeviceBuffer input, DeviceBuffer diffOutput, DeviceBuffer? output,
        DeviceBuffer diffWeights, DeviceBuffer? diffBias)
    {
        using (runner.Lock())
            BackwardWeightsOn(runner.Buffer(input, nameof(input)), runner.Buffer(diffOutput, nameof(diffOutput)), runner.BufferOrNull(output, nameof(output)),
                runner.Buffer(diffWeights, nameof(diffWeights)), runner.BufferOrNull(diffBias, nameof(diffBias)));
    }

    /// <summary>Queues backward data; call under the lock.</summary>
    private void BackwardDataOn(ClHandle diffOutput, ClHandle? output, ClHandle diffInput)
    {
        var dz = preActivation!.Enqueue(diffOutput, output);
        if (forwardOfBackward is not null)
            using (forwardOfBackward.runner.Lock()) forwardOfBackward.forward!.Enqueue(dz, diffInput);
        var device = runner.Device;
        device.SetArgument(gather!, 0, dz);
        device.SetArgument(gather!, 2, diffInput);
        device.Launch(gather!, Problem.InputLength, gatherGroup);
    }

    /// <summary>Queues the weights (and bias) gradient; call under the lock.</summary>
    private void BackwardWeightsOn(ClHandle input, ClHandle diffOutput, ClHandle? output, ClHandle diffWeights, ClHandle? diffBias)
    {
        var device = runner.Device;
        var dz = preActivation!.Enqueue(diffOutput, output);
        device.SetArgument(weightsGradient!, 0, input);
        device.SetArgument(weightsGradient!, 1, dz);
        device.SetArgument(weightsGradient!, 2, partials ?? diffWeights);
        device.Launch(weightsGradient!, chunks * Problem.WeightsLength, weightsGroup);
        if (partials is not null) SumChunks(partials, diffWeights, Problem.WeightsLength);
        if (diffBias is null) return;
        device.SetArgument(biasGradient!, 0, dz);
        device.SetArgument(biasGradient!, 1, biasPartials ?? diffBias);
        device.Launch(biasGradient!, chunks * Problem.OutChannels, biasGroup);
        if (partials is not null) SumChunks(biasPartials!, diffBias, Problem.OutChannels);
    }

    /// <summary>
    /// How the weight gradient splits the batch: enough chunks of whole images for about 2^16
    /// work-items, from the problem alone (so every device adds in the same order).
    /// </summary>
    internal static (int Chunks, int PerChunk) GradientChunks(ConvProblem p)
    {
        long wanted = Math.Clamp((65536 + p.WeightsLength - 1) / Math.Max(p.WeightsLength, 1), 1, p.Batch);
        int perChunk = (int)((p.Batch + wanted - 1) / wanted);
        return ((p.Batch + perChunk - 1) / perChunk, perChunk);
    }

    private void SumChunks(ClHandle partial, ClHandle output, long length)
    {
        var device = runner.Device;
        device.SetArgument(sumChunks!, 0, partial);
        device.SetArgument(sumChunks!, 1, output);
        device.SetArgument(sumChunks!, 2, (int)length);
        device.SetArgument(sumChunks!, 3, chunks);
        device.Launch(sumChunks!, length, sumGroup);
    }

    private protected override void ReleaseResources()
    {
        forwardOfBackward?.Dispose();
        runner.Dispose();
    }

    /// <summary>
    /// Whether an input offset of the backward-data gather (row + padding − tap reach) can pass
    /// 2^31 − 1: then conv2d.cl is built with 64-bit offsets (slower on GPUs), else 32-bit ones.
    /// </summary>
    private static bool NeedsWideIndex(ConvProblem p) =>
        (long)p.InHeight + p.PadTop + (long)(p.KernelHeight - 1) * p.DilationHeight >= int.MaxValue / 2 ||
        (long)p.InWidth + p.PadLeft + (long)(p.KernelWidth - 1) * p.DilationWidth >= int.MaxValue / 2;

    internal static ConvBackwardShape BackwardShape(ConvProblem p) => new()
    {
        Batch = p.Batch, InChannels = p.InChannels, InHeight = p.InHeight, InWidth = p.InWidth,
        OutChannels = p.OutChannels, OutHeight = OpenClLimits.ToInt(p.OutHeight, p, "the output height"),
        OutWidth = OpenClLimits.ToInt(p.OutWidth, p, "the output width"), Groups = p.Groups,
        KernelH = p.KernelHeight, KernelW = p.KernelWidth, StrideH = p.StrideHeight, StrideW = p.StrideWidth,
        PadTop = p.PadTop, PadLeft = p.PadLeft, DilationH = p.DilationHeight, DilationW = p.DilationWidth,
    };

    /// <summary>
    /// With stride 1, backward data is a forward convolution of dL/dz (channels swapped) with the
    /// kernel flipped and padding dilation·(kernel − 1) − pad on each side; null where that
    /// padding would be negative or the stride is not 1.
    /// </summary>
    internal static ConvProblem? BackwardDataAsForward(ConvProblem p)
    {
        long reachH = (long)p.DilationHeight * (p.KernelHeight - 1), reachW = (long)p.DilationWidth * (p.KernelWidth - 1);
        if (p.StrideHeight != 1 || p.StrideWidth != 1 || p.PadTop > reachH || p.PadBottom > reachH || p.PadLeft > reachW || p.PadRight > reachW)
            return null;
        return new ConvProblem
        {
            Batch = p.Batch, InChannels = p.OutChannels, InHeight = (int)p.OutHeight, InWidth = (int)p.OutWidth,
            OutChannels = p.InChannels, KernelHeight = p.KernelHeight, KernelWidth = p.KernelWidth,
            PadTop = (int)reachH - p.PadTop, PadBottom = (int)reachH - p.PadBottom,
            PadLeft = (int)reachW - p.PadLeft, PadRight = (int)reachW - p.PadRight,
            DilationHeight = p.DilationHeight, DilationWidth = p.DilationWidth, Groups = p.Groups,
        };
    }

    /// <summary>flipped[g·Cg + c][k][r][s] = w[g·Kg + k][c][kh−1−r][kw−1−s]: the weights of <see cref="BackwardDataAsForward"/>.</summary>
    internal static float[] FlipAndTranspose(ConvProblem p, ReadOnlySpan<float> weights)
    {
        int groups = p.Groups, kPerGroup = p.OutChannels / groups, cPerGroup = p.InChannels / groups, taps = p.KernelHeight * p.KernelWidth;
        var flipped = new float[weights.Length];
        for (int g = 0; g < groups; g++)
            for (int c = 0; c < cPerGroup; c++)
                for (int k = 0; k < kPerGroup; k++)
                    for (int t = 0; t < taps; t++)
                        flipped[((long)(g * cPerGroup + c) * kPerGroup + k) * taps + t] = weights[(int)(((long)(g * kPerGroup + k) * cPerGroup + c) * taps + (taps - 1 - t))];
        return flipped;
    }
}

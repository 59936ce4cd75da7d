using System.Runtime.InteropServices;
using HpcCnn.Problems;

namespace HpcCnn.OpenCl;

/// <summary>
/// Max or average pooling on an OpenCL device in one direction: forward on a padded, phase-split
/// copy (one vector load per tap; from the input itself for strides beyond twice the kernel), max
/// pooling for training with its argmax, or the backward gather. Kernels are built at creation. Run it on <see cref="OpenClTensor"/>s to keep data on the
/// device; the span overloads copy.
/// </summary>
public sealed class OpenClPoolPlan : PoolPlan
{
    private const int CpuGroupSize = 16;

    private readonly PlanRunner runner;

    /// <summary>Matches struct pool_shape in pool2d.cl.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PoolShape
    {
        public int InHeight, InWidth, OutHeight, OutWidth, ColTiles;
        public int KernelH, KernelW, StrideH, StrideW, PadTop, PadLeft, Algorithm;
        public int PaddedHeight, RowLength, PhaseWidth;
        public int TapPhaseStep, TapOffsetStep;
    }

    private readonly ClHandle? argmax, backward;
    private readonly PaddedInput? padded;
    private readonly ClHandle? kernel;
    private readonly long items;
    private readonly nuint groupSize;

    internal OpenClPoolPlan(OpenClDevice device, PoolProblem problem) : base(problem)
    {
        runner = new PlanRunner(device);
        try
        {
            var program = device.Program("pool2d", "");
            // Forward inference reads a padded copy, unless strides longer than twice the kernel would
            // make that copy follow the stride rather than the image; the other kernels read the input itself.
            bool paddedCopy = problem.Direction != Direction.BackwardData && problem.WorkspaceLength == 0 &&
                              problem.StrideHeight <= 2L * problem.KernelHeight && problem.StrideWidth <= 2L * problem.KernelWidth;
            var shape = Shape(device, problem, paddedCopy, out int paddedHeight, out int phaseWidth, out int colTiles);
            if (problem.Direction == Direction.BackwardData)
            {
                backward = runner.Own(device.CreateKernel(program, "pool2d_backward"));
                device.SetArgument(backward, 3, shape);
                items = problem.InputLength;
                device.SetArgument(backward, 4, OpenClLimits.ToInt(items, problem, "the input"));
                groupSize = device.WorkGroupSize(backward, CpuGroupSize);
                Algorithm = "pool2d_backward_ocl";
            }
            else if (problem.WorkspaceLength > 0)
            {
                argmax = runner.Own(device.CreateKernel(program, "pool2d_max_argmax"));
                device.SetArgument(argmax, 3, shape);
                items = problem.OutputLength;
                device.SetArgument(argmax, 4, OpenClLimits.ToInt(items, problem, "the output"));
                groupSize = device.WorkGroupSize(argmax, CpuGroupSize);
                Algorithm = "pool2d_max_argmax_ocl";
            }
            else if (!paddedCopy)
            {
                kernel = runner.Own(device.CreateKernel(program, "pool2d_unpadded"));
                items = problem.OutputLength;
                device.SetArgument(kernel, 2, shape);
                device.SetArgument(kernel, 3, OpenClLimits.ToInt(items, problem, "the output"));
                groupSize = device.WorkGroupSize(kernel, CpuGroupSize);
                Algorithm = "pool2d_unpadded_ocl";
            }
            else
            {
                int vw = device.VectorWidth;
                items = (long)problem.Batch * problem.Channels * problem.OutHeight * colTiles;
                if (items > int.MaxValue) throw new ArgumentException($"{problem} is too large for one launch", nameof(problem));
                kernel = runner.Own(device.CreateKernel(program, "pool2d_v"));
                // The padded copy covers every window of every column tile, as for convolutions.
                padded = new PaddedInput(runner, program, (long)problem.Batch * problem.Channels, problem.InHeight, problem.InWidth,
                    paddedHeight, problem.StrideWidth, phaseWidth, problem.PadTop, problem.PadLeft,
                    fill: problem.Algorithm == PoolAlgorithm.Max ? float.NegativeInfinity : 0f);
                device.SetArgument(kernel, 0, padded.Buffer);
                device.SetArgument(kernel, 2, shape);
                device.SetArgument(kernel, 3, (int)items);
                groupSize = device.WorkGroupSize(kernel, CpuGroupSize);
                Algorithm = $"pad+pool2d_direct_{vw}_ocl";
            }
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    public override string Algorithm { get; }
    public override string Isa => "opencl";

    /// <summary>Queues the pooling of <paramref name="input"/> into <paramref name="output"/> and returns without waiting.</summary>
    public void Run(OpenClTensor input, OpenClTensor output) => Forward(input, output);

    /// <summary>The kernels' shape argument; the padded copy's geometry only where <paramref name="paddedCopy"/> (zeros otherwise).</summary>
    private static PoolShape Shape(OpenClDevice device, PoolProblem problem, bool paddedCopy, out int paddedHeight, out int phaseWidth, out int colTiles)
    {
        int vw = device.VectorWidth, sw = problem.StrideWidth;
        colTiles = (int)((problem.OutWidth + vw - 1) / vw);
        paddedHeight = !paddedCopy ? 0 : OpenClLimits.ToInt(
            Math.Max((long)problem.PadTop + problem.InHeight, (problem.OutHeight - 1) * problem.StrideHeight + problem.KernelHeight), problem, "the padded input height");
        phaseWidth = !paddedCopy ? 0 : OpenClLimits.ToInt((long)colTiles * vw + (problem.KernelWidth - 1) / sw, problem, "the padded input width");
        return new PoolShape
        {
            InHeight = problem.InHeight, InWidth = problem.InWidth,
            OutHeight = OpenClLimits.ToInt(problem.OutHeight, problem, "the output height"), OutWidth = OpenClLimits.ToInt(problem.OutWidth, problem, "the output width"),
            ColTiles = colTiles, KernelH = problem.KernelHeight, KernelW = problem.KernelWidth,
            StrideH = problem.StrideHeight, StrideW = sw, PadTop = problem.PadTop, PadLeft = problem.PadLeft,
            Algorithm = (int)problem.Algorithm,
            PaddedHeight = paddedHeight, RowLength = sw * phaseWidth, PhaseWidth = phaseWidth,
            TapPhaseStep = 1 % sw, TapOffsetStep = 1 / sw,
        };
    }

    private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output, Span<int> workspace)
    {
        using (runner.Lock())
        {
            var y = runner.StageOut(1, output)!;
            var w = runner.StageOut(2, MemoryMarshal.Cast<int, float>(workspace));
            ForwardOn(runner.StageIn(0, input)!, y, w);
            runner.Read(y, output);
            runner.Read(w, MemoryMarshal.Cast<int, float>(workspace));
        }
    }

    private protected override void ForwardCore(DeviceBuffer input, DeviceBuffer output, DeviceBuffer? workspace)
    {
        using (runner.Lock())
            ForwardOn(runner.Buffer(input, nameof(input)), runner.Buffer(output, nameof(output)), runner.BufferOrNull(workspace, nameof(workspace)));
    }

    private protected override void BackwardCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<int> workspace, Span<float> diffInput)
    {
        using (runner.Lock())
        {
            var dx = runner.StageOut(2, diffInput)!;
            BackwardOn(runner.StageIn(0, diffOutput)!, runner.StageIn(1, MemoryMarshal.Cast<int, float>(workspace)), dx);
            runner.Read(dx, diffInput);
        }
    }

    private protected override void BackwardCore(DeviceBuffer diffOutput, DeviceBuffer? workspace, DeviceBuffer diffInput)
    {
        using (runner.Lock())
            BackwardOn(runner.Buffer(diffOutput, nameof(diffOutput)), runner.BufferOrNull(workspace, nameof(workspace)), runner.Buffer(diffInput, nameof(diffInput)));
    }

    /// <summary>Queues the forward pass; call under the lock.</summary>
    private void ForwardOn(ClHandle input, ClHandle output, ClHandle? workspace)
    {
        var device = runner.Device;
        if (argmax is not null)
        {
            device.SetArgument(argmax, 0, input);
            device.SetArgument(argmax, 1, output);
            device.SetArgument(argmax, 2, workspace!);
            device.Launch(argmax, items, groupSize);
            return;
        }
        if (padded is not null) padded.Enqueue(input);
        else device.SetArgument(kernel!, 0, input);
        device.SetArgument(kernel!, 1, output);
        device.Launch(kernel!, items, groupSize);
    }

    /// <summary>Queues the backward pass; call under the lock. Averages read no workspace: the kernel gets dL/dy in its place.</summary>
    private void BackwardOn(ClHandle diffOutput, ClHandle? workspace, ClHandle diffInput)
    {
        var device = runner.Device;
        device.SetArgument(backward!, 0, diffOutput);
        device.SetArgument(backward!, 1, workspace ?? diffOutput);
        device.SetArgument(backward!, 2, diffInput);
        device.Launch(backward!, items, groupSize);
    }

    private protected override void ReleaseResources() => runner.Dispose();
}

using System.Runtime.InteropServices;
using HpcCnn.Problems;

namespace HpcCnn.OpenCl;

/// <summary>
/// Max or average pooling on an OpenCL device: one kernel launch per run, built at creation. Run
/// it on <see cref="OpenClTensor"/>s to keep data on the device; the span overload copies.
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

    internal OpenClPoolPlan(OpenClDevice device, PoolProblem problem) : base(problem)
    {
        runner = new PlanRunner(device, problem.InputLength, problem.OutputLength);
        try
        {
            int vw = device.VectorWidth;
            int colTiles = (int)((problem.OutWidth + vw - 1) / vw);
            long items = (long)problem.Batch * problem.Channels * problem.OutHeight * colTiles;
            if (items > int.MaxValue) throw new ArgumentException($"{problem} is too large for one launch", nameof(problem));
            var program = device.Program("pool2d", "");
            var kernel = runner.Own(device.CreateKernel(program, "pool2d_v"));
            // The padded copy covers every window of every column tile, as for convolutions.
            int sw = problem.StrideWidth;
            int paddedHeight = OpenClLimits.ToInt(Math.Max((long)problem.PadTop + problem.InHeight, (problem.OutHeight - 1) * problem.StrideHeight + problem.KernelHeight),
                problem, "the padded input height");
            int phaseWidth = OpenClLimits.ToInt((long)colTiles * vw + (problem.KernelWidth - 1) / sw, problem, "the padded input width");
            var padded = new PaddedInput(runner, program, (long)problem.Batch * problem.Channels, problem.InHeight, problem.InWidth,
                paddedHeight, sw, phaseWidth, problem.PadTop, problem.PadLeft,
                fill: problem.Algorithm == PoolAlgorithm.Max ? float.NegativeInfinity : 0f);
            device.SetArgument(kernel, 0, padded.Buffer);
            device.SetArgument(kernel, 2, new PoolShape
            {
                InHeight = problem.InHeight, InWidth = problem.InWidth, OutHeight = (int)problem.OutHeight, OutWidth = (int)problem.OutWidth,
                ColTiles = colTiles, KernelH = problem.KernelHeight, KernelW = problem.KernelWidth,
                StrideH = problem.StrideHeight, StrideW = sw, PadTop = problem.PadTop, PadLeft = problem.PadLeft,
                Algorithm = (int)problem.Algorithm,
                PaddedHeight = paddedHeight, RowLength = sw * phaseWidth, PhaseWidth = phaseWidth,
                TapPhaseStep = 1 % sw, TapOffsetStep = 1 / sw,
            });
            device.SetArgument(kernel, 3, (int)items);
            var groupSize = device.WorkGroupSize(kernel, CpuGroupSize);
            runner.SetEnqueue((input, output) =>
            {
                padded.Enqueue(input);
                device.SetArgument(kernel, 1, output);
                device.Launch(kernel, items, groupSize);
            });
            Algorithm = $"pad+pool2d_direct_{vw}_ocl";
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
    public void Run(OpenClTensor input, OpenClTensor output)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        runner.Run(input, output);
    }

    private protected override void RunCore(ReadOnlySpan<float> input, Span<float> output) => runner.RunSpans(input, output);

    private protected override void ReleaseResources() => runner.Dispose();
}
